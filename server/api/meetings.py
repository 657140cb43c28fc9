"""REST endpoints: meetings (to be written)."""
from server.api import bp  # noqa: F401
