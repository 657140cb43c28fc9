"""Tablets and displays.

- ``devices``: pairing, projector display tokens, revocation, wipe status.

Callers import the modules: ``from server.services.devices import devices``.
"""
