"""A typed context: handlers reach the HelpDesk and the settings through it, not through bot_data lookups."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from telegram.ext import Application, CallbackContext, ExtBot

from bot.config import Settings
from bot.helpdesk import HelpDesk

if TYPE_CHECKING:
    from bot.telegram_ui.delivery import Courier
    from bot.domain import Admission


class BotContext(CallbackContext[ExtBot, dict, dict, dict]):
    # Set for a citizen's update before the handlers run: who wrote, and their open tickets.
    admission: "Admission | None" = None

    @property
    def helpdesk(self) -> HelpDesk:
        return self.application.bot_data["helpdesk"]

    @property
    def settings(self) -> Settings:
        return self.application.bot_data["settings"]

    @property
    def courier(self) -> "Courier":
        """Delivery passes: `context.courier.soon()` after storing something to send."""
        return self.application.bot_data["courier"]


AppType = Application[ExtBot, BotContext, dict, dict, dict, Any]
