"""A typed context: handlers reach the HelpDesk and the settings through it, not through bot_data lookups."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from telegram.ext import Application, CallbackContext, ExtBot

from bot.config import Settings
from bot.delivery import Courier
from bot.helpdesk import HelpDesk

if TYPE_CHECKING:
    from bot.telegram_ui.sender import TelegramSender
    from bot.telegram_ui.transport import RawUpdates
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
    def courier(self) -> Courier:
        """Delivery passes: `context.courier.soon()` after storing something to send."""
        return self.application.bot_data["courier"]

    @property
    def sender(self) -> "TelegramSender":
        """What delivery sends through: the librarians' group and citizens' private chats."""
        return self.application.bot_data["sender"]

    @property
    def raw_updates(self) -> "RawUpdates":
        """Updates as getUpdates received them, until intake takes each one (transport.py)."""
        return self.application.bot_data["raw_updates"]

    async def refresh_card(self, ticket_id: int) -> None:
        """Redraw a ticket's card in the librarians' group."""
        await self.helpdesk.refresh_card(self.sender, ticket_id)


AppType = Application[ExtBot, BotContext, dict, dict, dict, Any]
