"""REST endpoints: documents (being written)."""
from server.api import bp  # noqa: F401
