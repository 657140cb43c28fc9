"""REST endpoints: devices (being written)."""
from server.api import bp  # noqa: F401
