"""End-to-end tests of egov-bot against a local Telegram Bot API emulator (see emulator.py)."""
