"""`nerxl` commands of this area (placeholder until the area lands)."""

commands: list = []
