"""Pydantic models shared by the REST API, the pages and the socket handlers."""
