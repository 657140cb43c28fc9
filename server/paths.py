"""Where the checkout is: templates, static files, the tablet client, migrations.

Its own module so that pages and commands can use it without importing the
application package back (server/__init__.py builds the app from them).
"""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
