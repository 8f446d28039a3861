"""What the core reads of a message on arrival: answered before, who asks, the question
waiting, in one statement whichever of them exist."""

from __future__ import annotations

from datetime import timedelta

from models.accounts import ChatAccount, ChatChannel
from models.arrivals import arrival
from models.conversations import ask
from models.organization import Role
from models.outbox import Envelope, enqueue
from tests.city import City
from tests.conftest import NOW


async def test_nothing_known_of_a_stranger(session, city: City) -> None:
    came = await arrival(session, ChatChannel.TELEGRAM, "900", "900", "reply:telegram:update 1:0")
    assert (came.answered, came.official, came.conversation) == (False, None, None)


async def test_the_linked_official_with_roles_the_question_and_the_reply_each_found(
    session, city: City
) -> None:
    leader = city.officials["SXD-LD"]
    session.add(
        ChatAccount(
            channel=ChatChannel.ZALO,
            external_user_id="u7",
            chat_id="c7",
            official_id=leader.id,
            linked_at=NOW,
        )
    )
    await ask(session, ChatChannel.ZALO, "c7", "u7", flow="tiendo", step="args", values={}, now=NOW)
    await session.commit()
    session.expunge_all()  # read back from the database, not this session's copies
    came = await arrival(session, ChatChannel.ZALO, "c7", "u7", "reply:zalo:update 5:0")
    assert not came.answered
    assert came.official is not None and came.official.id == leader.id
    assert Role.LEADER in came.official.roles
    assert came.conversation is not None and came.conversation.flow == "tiendo"
    # Another chat of the same person: the account, not the question.
    elsewhere = await arrival(session, ChatChannel.ZALO, "group", "u7", "reply:zalo:update 6:0")
    assert elsewhere.official is not None and elsewhere.conversation is None
    await enqueue(
        session,
        Envelope(key="reply:zalo:update 5:0", channel=ChatChannel.ZALO, chat_id="c7", text="ok"),
        NOW + timedelta(seconds=1),
    )
    again = await arrival(session, ChatChannel.ZALO, "c7", "u7", "reply:zalo:update 5:0")
    assert again.answered and again.official is not None
