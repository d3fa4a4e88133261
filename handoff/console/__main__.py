"""``python -m handoff.console``: runs the agent console."""

from handoff.console.app import main

main()
