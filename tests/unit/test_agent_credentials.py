"""Password hashing and policy, the training rule and the sign-in settings."""

import base64
import hashlib
from datetime import date, timedelta
from pathlib import Path
from typing import Optional

import pytest
import yaml

from handoff.agents import (
    Agent,
    AgentDirectoryError,
    hash_password,
    main,
    password_matches,
    password_problem,
    read_agents,
)
from handoff.settings import AgentAccess, SettingsError, TlsFiles


def test_new_hashes_use_owasp_scrypt_parameters_and_old_ones_still_verify() -> None:
    scheme, n, r, p, _, _ = hash_password("Correct horse 42").split("$")
    assert (scheme, int(n), int(r), int(p)) == ("scrypt", 2**17, 8, 1)
    assert password_matches("Correct horse 42", hash_password("Correct horse 42"))

    salt = b"0123456789abcdef"
    legacy_digest = hashlib.scrypt(b"old password", salt=salt, n=2**14, r=8, p=1)
    legacy = "$".join(["scrypt", str(2**14), "8", "1", base64.b64encode(salt).decode(),
                       base64.b64encode(legacy_digest).decode()])
    assert password_matches("old password", legacy)
    assert not password_matches("Old password", legacy)


def test_hashes_with_absurd_parameters_are_refused_not_computed() -> None:
    salt = base64.b64encode(b"x" * 16).decode()
    assert not password_matches("anything", f"scrypt${2**30}$8$1${salt}${salt}")
    assert not password_matches("anything", "md5$abc")


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("Short1!", "at least 12 characters"),
        ("alllowercaseletters", "two kinds of character"),
        ("123456789012345", "two kinds of character"),
        ("maria-Lopez-2026!", "must not contain the agent id"),
        ("MARIA and more 42", "must not contain the agent id"),
    ],
)
def test_the_password_policy_says_what_is_wrong(password: str, problem: str) -> None:
    found = password_problem(password, "maria")
    assert found is not None and problem in found


def test_the_password_policy_accepts_a_long_mixed_password() -> None:
    assert password_problem("plum tree at 6 o'clock", "maria") is None
    assert password_problem("Correct-Horse-Battery", "maria") is None


def test_hash_password_command_refuses_a_weak_password_with_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.argv", ["handoff.agents", "hash-password", "--agent-id", "maria"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "maria12345678")
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "must not contain the agent id; nothing was hashed" in captured.err


def test_hash_password_command_prints_a_hash_for_a_good_password(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.argv", ["handoff.agents", "hash-password", "--agent-id", "maria"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "plum tree at 6 o'clock")
    main()
    printed = capsys.readouterr().out.strip()
    assert printed.startswith("scrypt$131072$8$1$") and password_matches("plum tree at 6 o'clock", printed)


def agent_trained(on: Optional[date]) -> Agent:
    return Agent("tess", "Tess", "agent", ("en",), ("general",), "x", on)


def test_training_must_be_on_record_and_no_older_than_a_year() -> None:
    today = date(2026, 6, 1)
    assert agent_trained(today - timedelta(days=365)).training_problem(365, today) is None
    expired = agent_trained(today - timedelta(days=366)).training_problem(365, today)
    assert expired == (
        "HIPAA training of 2025-05-31 expired on 2026-05-31: renew it before claiming or reading conversations"
    )
    missing = agent_trained(None).training_problem(365, today)
    assert missing is not None and "no HIPAA training is on record" in missing
    future = agent_trained(today + timedelta(days=3)).training_problem(365, today)
    assert future is not None and "in the future" in future


def test_the_directory_reads_training_dates(tmp_path: Path) -> None:
    path = tmp_path / "agents.yml"
    path.write_text(
        "agents:\n"
        "  - {id: a, languages: [en], password_hash: x, hipaa_training: 2026-03-01}\n"
        "  - {id: b, languages: [en], password_hash: x, hipaa_training: '2025-12-24'}\n"
        "  - {id: c, languages: [en], password_hash: x}\n"
    )
    assert [agent.hipaa_training for agent in read_agents(path)] == [date(2026, 3, 1), date(2025, 12, 24), None]
    path.write_text(yaml.safe_dump({"agents": [{"id": "a", "languages": ["en"], "password_hash": "x",
                                                "hipaa_training": "last spring"}]}))
    with pytest.raises(AgentDirectoryError, match="hipaa_training must be a date"):
        read_agents(path)


def test_sign_in_settings_come_from_the_environment() -> None:
    assert AgentAccess.from_env({}) == AgentAccess()
    assert (AgentAccess().session_idle_seconds, AgentAccess().session_max_seconds) == (900, 28800)
    configured = AgentAccess.from_env(
        {"AGENT_SESSION_IDLE_SECONDS": "300", "AGENT_LOGIN_FAILURES_PER_AGENT": "3", "AGENT_TRAINING_VALID_DAYS": "30"}
    )
    assert (configured.session_idle_seconds, configured.login_failures_per_agent) == (300, 3)
    assert configured.training_valid_days == 30
    with pytest.raises(SettingsError, match="AGENT_SESSION_MAX_SECONDS"):
        AgentAccess.from_env({"AGENT_SESSION_MAX_SECONDS": "8h"})


def test_tls_needs_both_files(tmp_path: Path) -> None:
    assert TlsFiles.from_env({}) is None
    certificate = tmp_path / "cert.pem"
    certificate.write_text("-")
    with pytest.raises(SettingsError, match="both HANDOFF_TLS_CERT and HANDOFF_TLS_KEY"):
        TlsFiles.from_env({"HANDOFF_TLS_CERT": str(certificate)})
    with pytest.raises(SettingsError, match="HANDOFF_TLS_KEY names no readable file"):
        TlsFiles.from_env({"HANDOFF_TLS_CERT": str(certificate), "HANDOFF_TLS_KEY": str(tmp_path / "nope")})
