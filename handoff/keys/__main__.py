"""``python -m handoff.keys rotate [--dry-run]``: see ``handoff.key_rotation``."""

from handoff.key_rotation import main
from patients.key_rotation import patient_records

main(patient_records)
