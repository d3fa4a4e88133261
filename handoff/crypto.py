"""AES-256-GCM envelopes for PHI at rest, with key rotation.

A key ring holds one current key (used to encrypt) and any number of older keys
(still accepted to decrypt). Each envelope names the key that sealed it:
``v1.<key id>.<base64url(nonce || ciphertext)>``. What the value is for is bound
in as associated data (``associated_data``): its purpose (a transcript entry, an
outbox message, a health fact...), its conversation or key, and where it sits (a
transcript entry's position), so an envelope moved to another place, another
conversation or another purpose does not decrypt.
"""

import base64
import binascii
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

ENVELOPE_VERSION = "v1"
NONCE_BYTES = 12
KEY_BYTES = 32


class KeyRingError(ValueError):
    """The key ring configuration is unusable."""


class EnvelopeError(ValueError):
    """An envelope is malformed, sealed by an unknown key, or was tampered with."""


def associated_data(purpose: str, *place: object) -> str:
    """What an envelope is bound to: its purpose, then what names its place (conversation, field, position)."""
    return "\x00".join((purpose, *(str(part) for part in place)))


@dataclass(frozen=True)
class DataKey:
    key_id: str
    secret: bytes


def generate_key_ring_spec(key_id: str = "k1") -> str:
    """Returns a new key ring spec with one random key, for first set-up."""
    return f"{key_id}:{base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode()}"


class KeyRing:
    """Encrypts with the current key and decrypts with any key of the ring."""

    def __init__(self, keys: list[DataKey]) -> None:
        if not keys:
            raise KeyRingError("the key ring needs at least one key")
        self._current = keys[0]
        self._by_id: dict[str, AESGCM] = {}
        self._mac_keys: dict[str, bytes] = {}
        """Each key's MAC key, derived from it once."""
        for key in keys:
            if len(key.secret) != KEY_BYTES:
                raise KeyRingError(f"key {key.key_id!r} must be {KEY_BYTES} bytes")
            if not key.key_id.isalnum():
                raise KeyRingError(f"key id {key.key_id!r} must be alphanumeric")
            if key.key_id in self._by_id:
                raise KeyRingError(f"key id {key.key_id!r} appears twice")
            self._by_id[key.key_id] = AESGCM(key.secret)
            self._mac_keys[key.key_id] = hmac.new(key.secret, b"handoff mac key", hashlib.sha256).digest()

    @classmethod
    def from_spec(cls, spec: str) -> "KeyRing":
        """Parses ``id:base64key[,id:base64key...]``; the first key is current."""
        keys = []
        for item in filter(None, (part.strip() for part in spec.split(","))):
            key_id, _, encoded = item.partition(":")
            try:
                secret = base64.urlsafe_b64decode(encoded)
            except (binascii.Error, ValueError) as error:
                raise KeyRingError(f"key {key_id!r} is not valid base64") from error
            keys.append(DataKey(key_id, secret))
        return cls(keys)

    @property
    def current_key_id(self) -> str:
        return self._current.key_id

    def seal(self, plaintext: bytes, context: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._by_id[self._current.key_id].encrypt(nonce, plaintext, context.encode())
        body = base64.urlsafe_b64encode(nonce + sealed).decode()
        return f"{ENVELOPE_VERSION}.{self._current.key_id}.{body}"

    def open(self, envelope: str, context: str) -> bytes:
        try:
            version, key_id, body = envelope.split(".", 2)
            raw = base64.urlsafe_b64decode(body)
        except (ValueError, binascii.Error) as error:
            raise EnvelopeError("malformed envelope") from error
        if version != ENVELOPE_VERSION:
            raise EnvelopeError(f"unsupported envelope version {version!r}")
        cipher = self._by_id.get(key_id)
        if cipher is None:
            raise EnvelopeError(f"envelope sealed by unknown key {key_id!r}")
        try:
            return cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode())
        except InvalidTag as error:
            raise EnvelopeError("envelope failed authentication") from error

    def needs_rotation(self, envelope: str) -> bool:
        """True when the envelope was sealed by a key other than the current one."""
        return not envelope.startswith(f"{ENVELOPE_VERSION}.{self._current.key_id}.")

    def mac(self, purpose: str, value: str) -> str:
        """An HMAC-SHA256 token binding ``value`` to ``purpose``, keyed by the current key."""
        return self._mac_with(self._mac_keys[self._current.key_id], purpose, value)

    def signed(self, purpose: str, value: str) -> tuple[str, str]:
        """``(key id, MAC)`` with the current key: the id says which key to check it with later."""
        return self._current.key_id, self.mac(purpose, value)

    def verify_signed(self, key_id: str, purpose: str, value: str, token: str) -> bool:
        """Checks a MAC made by the named key; False when the ring no longer has that key."""
        mac_key = self._mac_keys.get(key_id)
        return mac_key is not None and hmac.compare_digest(self._mac_with(mac_key, purpose, value), token)

    def macs(self, purpose: str, value: str) -> list[str]:
        """The MAC of ``value`` under every key of the ring: what a MAC made before a rotation equals."""
        return [self._mac_with(mac_key, purpose, value) for mac_key in self._mac_keys.values()]

    def verify_mac(self, purpose: str, value: str, token: str) -> bool:
        """Accepts tokens made with any key of the ring, so rotation does not log anyone out."""
        return any(
            hmac.compare_digest(self._mac_with(mac_key, purpose, value), token)
            for mac_key in self._mac_keys.values()
        )

    @staticmethod
    def _mac_with(mac_key: bytes, purpose: str, value: str) -> str:
        digest = hmac.new(mac_key, f"{purpose}\x00{value}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")
