"""`hemicycle ca` (being written)."""
COMMANDS: list = []
