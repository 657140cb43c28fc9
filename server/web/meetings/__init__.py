"""Preparation pages under /meetings, one blueprint (``meetings``).

- ``common``: the blueprint, form parsing and error messages, local time for pages.
- ``pages``: the meeting list, a new meeting, the overview with edit, publish and delete.
- ``agenda``: the agenda editor.
- ``participants``: the participants table, the directory and CSV import.

The route modules add their views to ``common.bp``; importing them here registers them.
"""
from __future__ import annotations

from server.web.meetings import agenda, pages, participants  # noqa: F401  (views on bp)
from server.web.meetings.common import bp  # noqa: F401  (registered by server.web)
