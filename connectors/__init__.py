"""Rasa input channels that put every patient message through the handoff gate."""
