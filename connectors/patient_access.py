"""Which conversation a patient request belongs to, and whether it may reach it (invariant 9).

A request is admitted to a conversation in one of three ways:

* **its token**: ``Authorization: Bearer <token>``, or ``metadata.conversation_token``
  for clients that can only send Rasa's REST body, with ``sender`` = the
  conversation id the server issued with the token;
* **a platform signature**: a messaging platform relay that signs the raw body
  (``X-Hub-Signature-256: sha256=<hex HMAC-SHA256>`` under
  ``PATIENT_PLATFORM_SECRET``) vouches for its sender, which must name the
  platform (``sms:+15551234567``); an invalid signature is refused;
* **first contact**: no credential and no existing conversation of that name:
  the server mints a new conversation id and token (the ``sender`` a client
  chose is never used), within the per-address limit.

Anything else is refused with 401 and changes nothing: a sender id alone grants
nothing. Every 401 is counted: a burst raises a ``patient_credential_flood`` incident
(``handoff.incidents``). A portal identity (``metadata.portal_identity = {"patient_id",
"identity_hash"}``, ``identity_hash = HMAC-SHA256(PATIENT_PORTAL_IDENTITY_SECRET,
patient_id)`` computed by the portal's server) marks the patient verified; a
wrong hash is refused, and with ``PATIENT_PORTAL_IDENTITY_REQUIRED`` a request
without one is refused too.
"""

from dataclasses import dataclass
from typing import Any, Optional

from sanic.request import Request

from handoff.incidents import CredentialRefusals
from handoff.patient_sessions import (
    PatientCredential,
    PatientSessions,
    Unauthorized,
    identity_hash_matches,
    platform_signature_matches,
)
from handoff.settings import PatientAccess
from handoff.spool import STORAGE_ERRORS

PLATFORM_SIGNATURE_HEADER = "X-Hub-Signature-256"
TOKEN_FIELD = "conversation_token"  # noqa: S105 (a field name)
PORTAL_FIELD = "portal_identity"


@dataclass(frozen=True)
class Admission:
    """The conversation a request may reach; ``credential`` is set when the server has just issued it."""

    conversation_id: str
    credential: Optional[PatientCredential] = None
    portal_patient_id: Optional[str] = None


def client_address(request: Request) -> str:
    """The patient's address; behind a proxy, Sanic's ``SANIC_PROXIES_COUNT`` makes it the forwarded one."""
    return str(request.remote_addr or request.ip or "unknown")


def presented_token(request: Request, metadata: Optional[dict[str, Any]]) -> Optional[str]:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    field = (metadata or {}).get(TOKEN_FIELD)
    return field if isinstance(field, str) and field else None


class PatientGatekeeper:
    def __init__(self, sessions: PatientSessions, access: PatientAccess, refusals: CredentialRefusals) -> None:
        self.sessions = sessions
        self.access = access
        self.refusals = refusals

    def portal_patient_id(self, metadata: Optional[dict[str, Any]]) -> Optional[str]:
        """The portal patient id the request proves, None when it carries none; raises ``Unauthorized``."""
        identity = (metadata or {}).get(PORTAL_FIELD)
        if identity is None:
            if self.access.portal_identity_required:
                raise Unauthorized("sign in to the patient portal to chat: a portal identity is required")
            return None
        patient_id = identity.get("patient_id") if isinstance(identity, dict) else None
        claimed = identity.get("identity_hash") if isinstance(identity, dict) else None
        if not isinstance(patient_id, str) or not isinstance(claimed, str) or not 0 < len(patient_id) <= 128:
            raise Unauthorized("portal_identity must be {\"patient_id\": ..., \"identity_hash\": ...}")
        if not identity_hash_matches(self.access.portal_identity_secret, patient_id, claimed):
            raise Unauthorized("the portal identity hash does not match")
        return patient_id

    async def admit(
        self, request: Request, sender: Optional[str], metadata: Optional[dict[str, Any]], crisis: bool
    ) -> Admission:
        """Ties the request to its conversation or refuses it (``PatientAccessError``: 401 or 429).

        A crisis message is never refused by the per-conversation message limit.
        Redis errors propagate: see :meth:`offline_conversation`.
        """
        try:
            return await self._admit(request, sender, metadata, crisis)
        except Unauthorized:
            await self.count_refusal()
            raise

    async def _admit(
        self, request: Request, sender: Optional[str], metadata: Optional[dict[str, Any]], crisis: bool
    ) -> Admission:
        signature = request.headers.get(PLATFORM_SIGNATURE_HEADER)
        if signature is not None:
            return await self._admit_platform(request, sender, signature, crisis)
        portal_patient_id = self.portal_patient_id(metadata)
        token = presented_token(request, metadata)
        if token is not None:
            if not sender:
                raise Unauthorized("sender (the conversation id issued with the token) is required with a token")
            signed_in = await self.sessions.authenticate(sender, token, count_message=not crisis)
            return Admission(sender, None, portal_patient_id or signed_in)
        if sender and await self.sessions.known(sender):
            raise Unauthorized("this conversation can be reached only with its token")
        credential = await self.sessions.open(client_address(request), portal_patient_id)
        return Admission(credential.conversation_id, credential, portal_patient_id)

    async def open_session(self, request: Request, metadata: Optional[dict[str, Any]]) -> Admission:
        """``POST /session``: a new conversation for the chat page, within the per-address limit."""
        try:
            portal_patient_id = self.portal_patient_id(metadata)
        except Unauthorized:
            await self.count_refusal()
            raise
        credential = await self.sessions.open(client_address(request), portal_patient_id)
        return Admission(credential.conversation_id, credential, portal_patient_id)

    def offline_conversation(self, request: Request, sender: Optional[str],
                             metadata: Optional[dict[str, Any]]) -> Optional[str]:
        """While Redis is unreachable: the conversation a token proves without Redis, else None."""
        token = presented_token(request, metadata)
        if sender and token and self.sessions.token_matches(sender, token):
            return sender
        return None

    async def _admit_platform(self, request: Request, sender: Optional[str], signature: str,
                              crisis: bool) -> Admission:
        if not platform_signature_matches(self.access.platform_secret, request.body, signature):
            raise Unauthorized(f"{PLATFORM_SIGNATURE_HEADER} does not match the body")
        if not sender or ":" not in sender:
            raise Unauthorized("a platform's sender must name the platform, as in sms:+15551234567")
        if not crisis:
            await self.sessions.count_message(sender)
        return Admission(sender)

    async def count_refusal(self) -> None:
        """Counts a 401 toward the credential-flood incident; with Redis unreachable the refusal still stands."""
        try:
            await self.refusals.refused()
        except STORAGE_ERRORS:
            return
