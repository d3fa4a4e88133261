"""``HANDOFF_REPLICA_ACKS`` and ``HANDOFF_REPLICA_ACK_TIMEOUT_MS``: off unless set, and a bad value is refused."""

import pytest

from handoff.settings import ReplicaAcks, SettingsError


def test_writes_wait_for_no_replica_unless_told() -> None:
    assert ReplicaAcks.from_env({}) == ReplicaAcks(replicas=0, timeout_ms=500)
    assert ReplicaAcks.from_env({"HANDOFF_REPLICA_ACKS": "2", "HANDOFF_REPLICA_ACK_TIMEOUT_MS": "250"}) == \
        ReplicaAcks(replicas=2, timeout_ms=250)


@pytest.mark.parametrize(("name", "value"), [
    ("HANDOFF_REPLICA_ACKS", "-1"), ("HANDOFF_REPLICA_ACKS", "one"), ("HANDOFF_REPLICA_ACKS", "1.5"),
    ("HANDOFF_REPLICA_ACK_TIMEOUT_MS", "0"), ("HANDOFF_REPLICA_ACK_TIMEOUT_MS", "-5"),
    ("HANDOFF_REPLICA_ACK_TIMEOUT_MS", "soon"),
])
def test_a_bad_value_is_refused_with_its_name(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        ReplicaAcks.from_env({name: value})
