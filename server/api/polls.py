"""REST endpoints: polls (being written)."""
from server.api import bp  # noqa: F401
