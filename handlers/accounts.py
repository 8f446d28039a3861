"""Linking a chat account (/start), help (/trogiup), language (/ngonngu), cancel (/huy)."""

from __future__ import annotations

from handlers.arguments import syntax
from handlers.core import Request
from locales import LANGUAGES, translator
from messages.reply import Reply
from models.accounts import ChatChannel, linked_channels, redeem_link_code
from models.conversations import finish
from models.organization import Unit
from models.permissions import may_decide_extensions, may_see_unit_lists


async def start(req: Request) -> list[Reply]:
    t = req.t
    code = req.args.strip()
    if not code:
        if req.official is None:
            return [
                Reply(
                    t._(
                        "Welcome to the task tracking and urging system. To start, ask the Office of "
                        "the People's Committee for a link code, then send: /start <code>"
                    )
                )
            ]
        return [
            Reply(
                t._(
                    "Hello comrade {name}. Send /viec to see your tasks, /trogiup for help.",
                    name=req.official.full_name,
                )
            )
        ]
    if req.incoming.is_group:
        return [
            Reply(
                t._(
                    "For safety, send the link code in a private chat with the bot, not in a group."
                )
            )
        ]
    incoming = req.incoming
    linked = await redeem_link_code(
        req.session,
        code,
        channel=incoming.channel,
        external_user_id=incoming.user_id,
        chat_id=incoming.chat_id,
        now=req.now,
    )
    if linked is None:
        return [
            Reply(
                t._(
                    "The link code is wrong or has expired. Please contact the Office of the People's "
                    "Committee for a new code."
                )
            )
        ]
    official = linked.official
    unit = await req.session.get_one(Unit, official.unit_id)
    t = translator(official.language)
    return [
        Reply(
            t._(
                "Hello comrade {name} ({unit}). This account is now linked to the task tracking and "
                "urging system. Send /viec to see your tasks, /trogiup for help.",
                name=official.full_name,
                unit=unit.name,
            )
        )
    ]


async def help_(req: Request) -> list[Reply]:
    t = req.t
    if req.viewer is None:
        return [
            Reply(
                t._(
                    "This account is not linked yet. Ask the Office of the People's Committee for a "
                    "link code, then send: /start <code>"
                )
            )
        ]
    lines = [t._("Commands you can use:")]
    lines += [
        t._("/viec — your open tasks"),
        t._("/xem 4102 — the full card of task 4102"),
        t._("/xong 4102 Plan issued — report task 4102 done, with the result"),
        t._("/tiendo 4102 60 Draft ready — update progress in percent"),
        t._("/vuongmac 4102 Waiting for land data — report a difficulty to the task force"),
        t._("/giahan 4102 31/12/2026 Reason — ask for a new deadline"),
        t._("/sapden 5 — your tasks due within 5 working days"),
    ]
    if may_see_unit_lists(req.viewer):
        lines += [
            t._("/quahan — overdue tasks by unit; /quahan SXD — one unit's"),
            t._("/thongke — this month's figures by unit"),
            t._("/report month — the monthly report with its chart and workbook (week, quarter)"),
        ]
    if may_decide_extensions(req.viewer):
        lines += [
            t._("/duyet 4102 — approve the pending extension of task 4102"),
            t._("/tuchoi 4102 Reason — refuse it"),
        ]
    lines += [
        t._("/ngonngu en — switch language (vi, en)"),
        t._("/kenh zalo — where reminders go: telegram, zalo or ca-hai"),
        t._("/huy — cancel a question"),
    ]
    return [Reply("\n".join(lines))]


async def language(req: Request) -> list[Reply]:
    choice = req.args.strip().lower()
    if choice not in LANGUAGES:
        return syntax(req, req.t._("Choose vi (Tiếng Việt) or en (English)."))
    assert req.official is not None
    req.official.language = choice
    t = translator(choice)
    return [Reply(t._("From now on the bot writes to you in English."))]


async def cancel(req: Request) -> list[Reply]:
    incoming = req.incoming
    if await finish(req.session, incoming.channel, incoming.chat_id, incoming.user_id):
        return [Reply(req.t._("Cancelled. Nothing was changed."))]
    return [Reply(req.t._("There is nothing to cancel."))]


CHANNEL_CHOICES = {
    "telegram": "telegram",
    "zalo": "zalo",
    "ca-hai": "all",
    "cahai": "all",
    "both": "all",
    "all": "all",
}


async def channel(req: Request) -> list[Reply]:
    """/kenh telegram|zalo|ca-hai: where reminders and alerts go when both are linked."""
    t = req.t
    choice = CHANNEL_CHOICES.get(req.args.strip().lower())
    if choice is None:
        return syntax(req, t._("Choose telegram, zalo or ca-hai (both)."))
    assert req.official is not None
    req.official.notify_channel = choice
    linked = await linked_channels(req.session, req.official.id)
    if choice == "all":
        text = t._("Reminders and alerts will now come on every channel you have linked.")
    else:
        text = t._("Reminders and alerts will now come on {channel}.", channel=choice.capitalize())
        if ChatChannel(choice) not in linked:
            text += "\n" + t._(
                "{channel} is not linked yet: send /start <code> to the bot there; "
                "until then they come where you are linked.",
                channel=choice.capitalize(),
            )
    return [Reply(text)]
