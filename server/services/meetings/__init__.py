"""Preparing a meeting: the meeting, its agenda and its participants.

- ``meetings``: create, edit, list, delete drafts, publish once ready.
- ``agenda``: the nested agenda; add, edit, delete, move, derived numbers.
- ``participants``: add (from the directory or by name), edit, remove.
- ``participant_import``: CSV import, every row checked first, then all or nothing.

Callers import the modules: ``from server.services.meetings import meetings``.
"""
