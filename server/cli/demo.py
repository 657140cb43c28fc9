"""`hemicycle demo` (being written)."""
COMMANDS: list = []
