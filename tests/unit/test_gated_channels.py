"""Rasa loads the gated channels from credentials.yml the way it loads any channel, and they keep their guarantees."""

from pathlib import Path

import pytest
import yaml
from rasa.core.channels.socketio import SocketIOInput
from rasa.core.channels.telegram import TelegramInput
from rasa.core.run import _create_single_channel
from rasa.shared.exceptions import RasaException

from connectors.gate_services import process_crisis_screen
from connectors.gated_channel import GatedChannel
from connectors.gated_socketio import GatedSocketIO, SocketSession
from connectors.gated_twilio import MESSAGE_SID, GatedTwilio, twilio_message_id
from connectors.patient_channel import PatientChannel
from handoff.crypto import generate_key_ring_spec

PROJECT_DIR = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def handoff_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HANDOFF_DATA_KEYS", generate_key_ring_spec("k1"))


def test_the_committed_credentials_open_the_widget_channel_behind_the_gate() -> None:
    credentials = yaml.safe_load((PROJECT_DIR / "credentials.yml").read_text())
    name = "connectors.gated_channel.socketio"
    channel = _create_single_channel(name, credentials[name])
    assert isinstance(channel, GatedSocketIO) and isinstance(channel.inner, SocketIOInput)
    assert (channel.name(), channel.url_prefix()) == ("socketio", "socketio")
    assert channel.inner.metadata_key == "customData"


def test_a_socket_never_speaks_for_the_session_id_its_events_name() -> None:
    channel = _create_single_channel("connectors.gated_channel.socketio", {"session_persistence": True})
    assert isinstance(channel, GatedSocketIO) and isinstance(channel.inner, SocketIOInput)
    assert channel.inner.session_persistence is False


def test_any_channel_rasa_ships_can_be_gated_by_name() -> None:
    channel = _create_single_channel("connectors.gated_channel.telegram",
                                     {"access_token": "t", "verify": "bot", "webhook_url": "https://x/webhook"})
    assert isinstance(channel, GatedChannel) and isinstance(channel.inner, TelegramInput)
    assert channel.url_prefix() == "telegram"


def test_an_unknown_channel_name_is_refused() -> None:
    with pytest.raises(RasaException):
        _create_single_channel("connectors.gated_channel.pigeon", {})


def test_twilio_without_its_credentials_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="auth_token"):
        GatedTwilio.from_credentials({"account_sid": "AC1", "twilio_number": "+15550001111"})


def test_twilios_message_sid_is_the_message_id() -> None:
    sid = "SM0123456789abcdef0123456789abcdef"
    assert twilio_message_id({MESSAGE_SID: sid}) == sid


@pytest.mark.parametrize("sid", [None, 17, "", "SM1", "SM 0123456789abcdef", "SM\n0123456789", "SM" + "a" * 63,
                                 ["SM0123456789abcdef"]])
def test_a_malformed_message_sid_is_no_message_id(sid: object) -> None:
    assert twilio_message_id({MESSAGE_SID: sid}) is None
    assert twilio_message_id(None) is None


@pytest.mark.parametrize("presented", [None, 17, "", "p-abc", "p-abc.", ".token", "x" * 600])
def test_a_session_id_without_a_conversation_and_a_token_is_no_session(presented: object) -> None:
    assert SocketSession.parse(presented) is None


def test_a_session_id_is_the_conversation_and_its_token() -> None:
    session = SocketSession.parse("p-abc.1700000000.nonce.mac")
    assert session == SocketSession("p-abc", "1700000000.nonce.mac")
    assert session.session_id == "p-abc.1700000000.nonce.mac"


def test_every_channel_of_a_process_shares_one_crisis_screen() -> None:
    # the patient channel owns its services, the gated channels share theirs: one screen for all of them
    patient = _create_single_channel("connectors.patient_channel.PatientChannel", {})
    widget = _create_single_channel("connectors.gated_channel.socketio", {})
    telegram = _create_single_channel("connectors.gated_channel.telegram",
                                      {"access_token": "t", "verify": "bot", "webhook_url": "https://x/webhook"})
    assert isinstance(patient, PatientChannel)
    assert isinstance(widget, GatedChannel) and isinstance(telegram, GatedChannel)
    assert patient.crisis_screen is widget.services.crisis_screen is telegram.services.crisis_screen
    assert patient.gate.crisis.crisis_screen is patient.crisis_screen
    assert widget.services.gate.crisis.crisis_screen is patient.crisis_screen
    assert process_crisis_screen.cache_info().misses == 1
