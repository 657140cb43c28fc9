"""`hemicycle users` (being written)."""
COMMANDS: list = []
