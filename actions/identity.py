"""Names shared by the verification actions, the domain and the patient channel.

No imports, so the connector can use them without loading rasa_sdk.

Slots the connector also sets: ``verified`` (bool), ``verified_via`` ("form" or
"portal"), ``verified_at`` (epoch seconds) and ``patient_id``. Only actions and
the connector set them (their mappings are ``custom``): no message, entity or
``/intent{"verified": true}`` can.

On success the verification form emits ``{"identity_verified": {"via": "form"}}``
as a custom message (``verified_marker``); the connector keeps it from the
patient and records for the agent console that the patient is verified, when
and how.
"""

from typing import Any

IDENTITY_FORM = "identity_form"

VERIFIED_SLOT = "verified"
VERIFIED_VIA_SLOT = "verified_via"
VERIFIED_AT_SLOT = "verified_at"
PATIENT_ID_SLOT = "patient_id"
VIA_FORM = "form"
VIA_PORTAL = "portal"

NAME_SLOT = "identity_name"
DATE_OF_BIRTH_SLOT = "identity_dob"
MEMBER_ID_SLOT = "identity_member_id"
FORM_SLOTS = (NAME_SLOT, DATE_OF_BIRTH_SLOT, MEMBER_ID_SLOT)
"""What the patient typed into the form; cleared as soon as it has been checked."""
FAILURES_SLOT = "identity_failures"
"""Failed verifications in this conversation (a float: Rasa has no integer slot)."""
PENDING_REQUEST_SLOT = "pending_request"
"""The PHI request (an intent name) the patient made before verifying, answered after it."""
REQUESTED_SLOT = "requested_slot"

IDENTITY_VERIFIED_MARKER = "identity_verified"

VERIFICATION_SLOTS = (VERIFIED_SLOT, VERIFIED_VIA_SLOT, VERIFIED_AT_SLOT, PATIENT_ID_SLOT)
HANDBACK_RESET: dict[str, Any] = {
    VERIFIED_SLOT: False,
    VERIFIED_VIA_SLOT: None,
    VERIFIED_AT_SLOT: None,
    PATIENT_ID_SLOT: None,
    NAME_SLOT: None,
    DATE_OF_BIRTH_SLOT: None,
    MEMBER_ID_SLOT: None,
    PENDING_REQUEST_SLOT: None,
    REQUESTED_SLOT: None,
}
"""Slot values for a conversation an agent hands back to the bot: verification lapses, no form is half-filled.

Set ``verified`` to False (not None): the rules tell verified and unverified apart by it.
"""


def verified_marker(via: str) -> dict[str, Any]:
    """The custom message that tells the connector the patient is now verified."""
    return {IDENTITY_VERIFIED_MARKER: {"via": via}}
