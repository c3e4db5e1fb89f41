"""Subcommands of the `relivchats` console script (see cli/main.py)."""
