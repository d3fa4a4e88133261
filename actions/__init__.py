"""Custom actions of the routing bot (rasa-sdk action server)."""
