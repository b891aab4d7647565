"""A typed context: handlers reach the HelpDesk and the settings through it, not through bot_data lookups."""

from __future__ import annotations

import asyncio
from typing import Any

from telegram.ext import Application, CallbackContext, ExtBot

from bot.config import Settings
from bot.helpdesk import HelpDesk


class BotContext(CallbackContext[ExtBot, dict, dict, dict]):
    @property
    def helpdesk(self) -> HelpDesk:
        return self.application.bot_data["helpdesk"]

    @property
    def settings(self) -> Settings:
        return self.application.bot_data["settings"]

    @property
    def delivery_lock(self) -> asyncio.Lock:
        return self.application.bot_data["delivery_lock"]


AppType = Application[ExtBot, BotContext, dict, dict, dict, Any]
