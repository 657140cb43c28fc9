"""`hemicycle minutes` (being written)."""
COMMANDS: list = []
