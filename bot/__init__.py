"""egov-bot: a citizen help bot for Kazakhstan's e-government services."""

__version__ = "0.1.0"
