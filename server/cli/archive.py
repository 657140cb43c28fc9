"""`hemicycle archive` (being written)."""
COMMANDS: list = []
