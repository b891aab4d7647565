"""Offline tests of the Telegram front end (bot.telegram_ui) over a fake Bot API: see harness.py."""
