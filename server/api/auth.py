"""REST endpoints: auth (to be written)."""
from server.api import bp  # noqa: F401
