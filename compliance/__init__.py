"""Automated review of every finished conversation against the chat protocol (``compliance.rules``)."""
