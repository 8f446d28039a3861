"""The bot's command menu on Telegram, in Vietnamese by default and in English for English
clients."""

from __future__ import annotations

from telegram import BotCommand, BotCommandScopeDefault
from telegram.ext import Application

from locales import Translator, translator


def menu(t: Translator) -> list[BotCommand]:
    """The command menu Telegram shows beside the text box."""
    return [
        BotCommand("viec", t._("My open tasks")),
        BotCommand("xem", t._("Show a task: /xem 4102")),
        BotCommand("xong", t._("Report a task done: /xong 4102 result")),
        BotCommand("tiendo", t._("Update progress: /tiendo 4102 60")),
        BotCommand("vuongmac", t._("Report a difficulty")),
        BotCommand("giahan", t._("Ask for an extension")),
        BotCommand("sapden", t._("Tasks due soon")),
        BotCommand("quahan", t._("Overdue tasks by unit")),
        BotCommand("thongke", t._("This month's figures")),
        BotCommand("baocao", t._("Report with chart and workbook")),
        BotCommand("duyet", t._("Approve an extension")),
        BotCommand("tuchoi", t._("Refuse an extension")),
        BotCommand("giao", t._("Register the tasks read from a notice")),
        BotCommand("ngonngu", t._("Language: vi or en")),
        BotCommand("trogiup", t._("Help")),
        BotCommand("huy", t._("Cancel a question")),
    ]


async def register_commands(application: Application) -> None:
    """The command menu, in Vietnamese by default and in English for English clients."""
    await application.bot.set_my_commands(menu(translator("vi")), scope=BotCommandScopeDefault())
    await application.bot.set_my_commands(
        menu(translator("en")), scope=BotCommandScopeDefault(), language_code="en"
    )
