"""RelivChats: event-sourced chat statistics and paid relationship insights."""

__version__ = "0.1.0"
