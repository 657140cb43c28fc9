"""REST endpoints: session (being written)."""
from server.api import bp  # noqa: F401
