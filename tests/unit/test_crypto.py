import pytest

from handoff.crypto import EnvelopeError, KeyRing, KeyRingError, generate_key_ring_spec


def test_sealed_text_opens_only_in_its_own_conversation() -> None:
    ring = KeyRing.from_spec(generate_key_ring_spec())
    envelope = ring.seal(b"my member id is 12345", "conversation-a")
    assert b"12345" not in envelope.encode()
    assert ring.open(envelope, "conversation-a") == b"my member id is 12345"
    with pytest.raises(EnvelopeError):
        ring.open(envelope, "conversation-b")


def test_tampered_envelope_is_rejected() -> None:
    ring = KeyRing.from_spec(generate_key_ring_spec())
    envelope = ring.seal(b"hello", "c")
    flipped = envelope[:-3] + ("A" if envelope[-3] != "A" else "B") + envelope[-2:]
    with pytest.raises(EnvelopeError):
        ring.open(flipped, "c")
    with pytest.raises(EnvelopeError):
        ring.open("not an envelope", "c")


def test_rotation_keeps_old_envelopes_readable_and_seals_with_the_new_key() -> None:
    old_spec = generate_key_ring_spec("k1")
    old_ring = KeyRing.from_spec(old_spec)
    old_envelope = old_ring.seal(b"before rotation", "c")
    rotated = KeyRing.from_spec(f"{generate_key_ring_spec('k2')},{old_spec}")
    assert rotated.open(old_envelope, "c") == b"before rotation"
    assert rotated.needs_rotation(old_envelope)
    new_envelope = rotated.seal(b"after", "c")
    assert not rotated.needs_rotation(new_envelope)
    with pytest.raises(EnvelopeError, match="unknown key"):
        old_ring.open(new_envelope, "c")


def test_push_tokens_survive_rotation_and_bind_the_conversation() -> None:
    old_spec = generate_key_ring_spec("k1")
    token = KeyRing.from_spec(old_spec).mac("patient-push", "alice")
    rotated = KeyRing.from_spec(f"{generate_key_ring_spec('k2')},{old_spec}")
    assert rotated.verify_mac("patient-push", "alice", token)
    assert not rotated.verify_mac("patient-push", "bob", token)
    assert not rotated.verify_mac("other-purpose", "alice", token)


@pytest.mark.parametrize(
    "spec",
    ["", "k1:not-base64!!", "k1:AAAA", f"{generate_key_ring_spec('k1')},{generate_key_ring_spec('k1')}"],
)
def test_unusable_key_ring_is_refused(spec: str) -> None:
    with pytest.raises(KeyRingError):
        KeyRing.from_spec(spec)
