"""Starts the whole system on one machine: Redis, action server, Rasa, agent console.

Used by ``make run`` (``python -m stack``) and by the test fixtures, so tests run
the same processes a clinic runs.
"""
