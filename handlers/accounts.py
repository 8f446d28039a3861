"""Linking a chat account (/start), help (/trogiup), language (/ngonngu), cancel (/huy)."""

from __future__ import annotations

import logging

from handlers.arguments import syntax
from handlers.core import Request
from locales import LANGUAGES, translator
from messages.reply import Button, Reply
from models.accounts import (
    ChatChannel,
    Linked,
    link_named_account,
    linked_channels,
    notify_channel_of,
    redeem_link_code,
    revoke_link_code,
    unlink,
)
from models.conversations import finish
from models.organization import Unit
from models.permissions import (
    board_scope,
    may_assign_from_notice,
    may_decide_extensions,
    may_reassign,
    may_see_unit_lists,
)
from models.throttles import give_back, refused_until, take

log = logging.getLogger(__name__)
CONFIRM = {"xacnhan", "xac-nhan", "confirm", "yes", "co"}


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
    incoming = req.incoming
    if incoming.is_group:
        # Everyone in the group has seen it: it must not link anybody any more.
        if await revoke_link_code(req.session, code, req.now):
            return [
                Reply(
                    t._(
                        "For safety, send the link code in a private chat with the bot, not in "
                        "a group. Everyone here has seen this code, so it has been cancelled: "
                        "ask the Office of the People's Committee for a new one."
                    ),
                    refused=True,
                )
            ]
        return [
            Reply(
                t._(
                    "For safety, send the link code in a private chat with the bot, not in a group."
                )
            )
        ]
    guesser, guesses = f"{incoming.channel.value}:{incoming.user_id}", req.limits.link_guesses
    # Counted before the code is tried (and given back when it was right): guesses from
    # several processes at once cannot slip past the count.
    if not await take(req.session, guesses, guesser, req.now):
        until = await refused_until(req.session, guesses, guesser, req.now) or req.now
        return [
            Reply(
                t._(
                    "Too many wrong link codes from this account. Please try again after {time}, "
                    "or contact the Office of the People's Committee.",
                    time=t.datetime(until),
                ),
                refused=True,
            )
        ]
    linked = await redeem_link_code(
        req.session,
        code,
        channel=incoming.channel,
        external_user_id=incoming.user_id,
        chat_id=incoming.chat_id,
        now=req.now,
    )
    if linked is None:
        if await refused_until(req.session, guesses, guesser, req.now) is not None:
            log.warning(
                "link codes: %d wrong codes from %s user %s; refused for a while",
                guesses.limit,
                incoming.channel.value,
                incoming.user_id,
            )
        return [
            Reply(
                t._(
                    "The link code is wrong or has expired. Please contact the Office of the People's "
                    "Committee for a new code."
                )
            )
        ]
    await give_back(req.session, guesses, guesser)
    return [await _greeting(req, linked)]


async def opened(req: Request) -> list[Reply]:
    """A direct chat just opened with the bot: an official whom the officials' file names by
    this account is linked and greeted as by /start CODE; anyone else hears nothing yet."""
    incoming = req.incoming
    if req.official is not None or incoming.is_group:
        return []
    linked = await link_named_account(
        req.session, incoming.channel, incoming.user_id, incoming.chat_id, req.now
    )
    return [await _greeting(req, linked)] if linked is not None else []


async def _greeting(req: Request, linked: Linked) -> Reply:
    official = linked.official
    unit = await req.session.get_one(Unit, official.unit_id)
    t = translator(official.language)
    return Reply(
        t._(
            "Hello comrade {name} ({unit}). This account is now linked to the task tracking and "
            "urging system. Send /viec to see your tasks, /trogiup for help.",
            name=official.full_name,
            unit=unit.name,
        )
    )


async def unlink_account(req: Request) -> list[Reply]:
    """/huylienket: this chat account stops being linked, after a confirmation."""
    t = req.t
    word = req.args.strip().lower()
    if not word:
        return [
            Reply(
                t._(
                    "Unlink this chat account from comrade {name}? The bot will no longer "
                    "answer or remind you here until you link it again with a new code.",
                    name=req.me.official.full_name,
                ),
                [[Button(t._("Unlink"), "/huylienket xacnhan")]],
            )
        ]
    if word not in CONFIRM:
        return syntax(req, t._("To unlink, send /huylienket xacnhan."))
    incoming = req.incoming
    await unlink(
        req.session,
        [req.me.official.id],
        channel=incoming.channel,
        external_user_id=incoming.user_id,
    )
    return [
        Reply(
            t._(
                "This chat account is no longer linked. To link it again, ask the Office of "
                "the People's Committee for a new code."
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
        t._(
            "/phoihop 4102 50 Appraisal sent — a coordinating unit reports its part to the lead unit"
        ),
    ]
    if may_see_unit_lists(req.viewer):
        lines += [
            t._("/quahan — overdue tasks by unit; /quahan SXD — one unit's"),
            t._("/thongke — this month's figures by unit"),
            t._("/nguyco — tasks at risk of being late, by unit; /nguyco SXD — one unit's"),
            t._("/report month — the monthly report with its chart and workbook (week, quarter)"),
        ]
    if req.viewer.is_task_force:
        lines.append(t._("/giaitrinh 4103 — ask the lead unit to explain why task 4103 is late"))
    elif req.viewer.is_unit_leader:
        lines.append(t._("/giaitrinh 4103 Reason — answer the task force's request to explain"))
    if board_scope(req.viewer) is not None:
        lines += [
            t._("/xephang — units ranked by score this month (quy: this quarter)"),
            t._("/bangdieukhien — a 12-hour link to the read-only dashboard"),
        ]
    if may_decide_extensions(req.viewer):
        lines += [
            t._("/duyet 4102 — approve the pending extension of task 4102"),
            t._("/tuchoi 4102 Reason — refuse it"),
        ]
    if may_reassign(req.viewer):
        lines += [
            t._("/chuyen 4102 STP STP-LD STP-CV — hand task 4102 over to another unit or people"),
            t._("/dungdinhky 4102 — end the recurring duty of task 4102 (past ones stay)"),
        ]
    if may_assign_from_notice(req.viewer):
        lines += [
            t._("Send a signed notice (DOCX, PDF) to the bot: it proposes the tasks it assigns"),
            t._(
                "/sua 3 chutri SXD, /sua 3 hanchot 31/12/2026, /bo 3 — fix or drop one; /giao — register them"
            ),
        ]
    lines += [
        t._("/ngonngu en — switch language (vi, en)"),
        t._("/kenh zalo — where reminders go: one channel or several, or tatca (all)"),
        t._("/huy — cancel a question"),
        t._("/huylienket — unlink this chat account (a lost phone: tell the Office)"),
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


# Words for "every channel"; any channel is also named by itself.
EVERY = {"tatca", "tat-ca", "all", "ca-hai", "cahai", "both"}


def _channels_named(words: str) -> frozenset[ChatChannel] | str | None:
    """`zalo matrix` → those channels; `tatca` → None (all); a word that is none: itself."""
    chosen: set[ChatChannel] = set()
    for word in words.replace(",", " ").lower().split():
        if word in EVERY:
            return None
        if word not in ChatChannel.__members__.values():
            return word
        chosen.add(ChatChannel(word))
    return frozenset(chosen)


async def channel(req: Request) -> list[Reply]:
    """/kenh zalo matrix | tatca: where reminders and alerts go, when several are linked."""
    t = req.t
    names = ", ".join(c.value for c in ChatChannel)
    usage = t._("Name one or more of: {channels}; or tatca (all).", channels=names)
    chosen = _channels_named(req.args)
    if isinstance(chosen, str) or chosen == frozenset():
        return syntax(req, usage)
    assert req.official is not None
    req.official.notify_channel = notify_channel_of(chosen)
    if chosen is None or chosen == frozenset(ChatChannel):
        return [Reply(t._("Reminders and alerts will now come on every channel you have linked."))]
    label = " + ".join(c.value.capitalize() for c in ChatChannel if c in chosen)
    text = t._("Reminders and alerts will now come on {channel}.", channel=label)
    missing = chosen - await linked_channels(req.session, req.official.id)
    if missing:
        text += "\n" + t._(
            "{channel} is not linked yet: send /start <code> to the bot there; "
            "until then they come where you are linked.",
            channel=" + ".join(c.value.capitalize() for c in ChatChannel if c in missing),
        )
    return [Reply(text)]
