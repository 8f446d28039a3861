"""Link codes: one-time, expiring after 7 days, stored hashed, a new one revoking the old."""

from datetime import timedelta

from sqlalchemy import func, select

from models.accounts import (
    ChatAccount,
    ChatChannel,
    LinkCode,
    chosen_channels,
    issue_link_code,
    notify_channel_of,
    redeem_link_code,
)
from tests.city import City
from tests.conftest import NOW


async def redeem(session, code: str, user: str = "1001", at=NOW):
    return await redeem_link_code(
        session, code, channel=ChatChannel.TELEGRAM, external_user_id=user, chat_id=user, now=at
    )


async def test_code_links_the_chat_account_to_the_official(session, city: City) -> None:
    official = city.officials["SXD-CV"]
    code = await issue_link_code(session, official, NOW)
    linked = await redeem(session, code.lower())
    assert linked is not None and linked.official.id == official.id
    account = await session.scalar(select(ChatAccount))
    assert (account.channel, account.external_user_id, account.official_id) == (
        ChatChannel.TELEGRAM,
        "1001",
        official.id,
    )


async def test_code_is_stored_only_as_a_hash(session, city: City) -> None:
    code = await issue_link_code(session, city.officials["SXD-CV"], NOW)
    stored = await session.scalar(select(LinkCode.code_hash))
    assert code not in stored and len(stored) == 64


async def test_code_works_once(session, city: City) -> None:
    code = await issue_link_code(session, city.officials["SXD-CV"], NOW)
    assert await redeem(session, code, "1001") is not None
    assert await redeem(session, code, "2002") is None
    assert await session.scalar(select(func.count()).select_from(ChatAccount)) == 1


async def test_code_expires_after_seven_days(session, city: City) -> None:
    code = await issue_link_code(session, city.officials["SXD-CV"], NOW)
    assert await redeem(session, code, at=NOW + timedelta(days=7)) is None
    assert await redeem(session, code, at=NOW + timedelta(days=6, hours=23)) is not None


async def test_new_code_revokes_the_old_one(session, city: City) -> None:
    official = city.officials["SXD-CV"]
    old = await issue_link_code(session, official, NOW)
    new = await issue_link_code(session, official, NOW + timedelta(minutes=5))
    assert await redeem(session, old) is None
    assert await redeem(session, new) is not None


async def test_wrong_code_links_nobody(session, city: City) -> None:
    await issue_link_code(session, city.officials["SXD-CV"], NOW)
    assert await redeem(session, "WRONGCODE1") is None
    assert await redeem(session, "") is None
    assert await session.scalar(select(func.count()).select_from(ChatAccount)) == 0


async def test_relinking_the_same_chat_moves_it_to_the_new_official(session, city: City) -> None:
    first = await issue_link_code(session, city.officials["SXD-CV"], NOW)
    await redeem(session, first)
    second = await issue_link_code(session, city.officials["STP-CV"], NOW)
    await redeem(session, second)
    accounts = (await session.scalars(select(ChatAccount))).all()
    assert [a.official_id for a in accounts] == [city.officials["STP-CV"].id]


def test_the_chosen_channels_are_stored_as_names_in_a_fixed_order() -> None:
    both = frozenset({ChatChannel.ZALO, ChatChannel.TELEGRAM})
    assert chosen_channels("telegram,zalo") == both
    assert notify_channel_of(frozenset({ChatChannel.ZALO})) == "zalo"
    assert notify_channel_of(None) == "all" and chosen_channels("all") is None
    assert notify_channel_of(frozenset(ChatChannel)) == "all"
    assert chosen_channels("zalo") == {ChatChannel.ZALO}
    assert len(notify_channel_of(frozenset(ChatChannel) - {ChatChannel.TELEGRAM})) <= 16


def test_kenh_reads_several_channels_all_or_a_word_that_is_none() -> None:
    from handlers.accounts import _channels_named

    assert _channels_named("zalo, telegram") == {ChatChannel.ZALO, ChatChannel.TELEGRAM}
    assert _channels_named("ZALO") == {ChatChannel.ZALO}
    assert _channels_named("zalo tatca") is None
    assert _channels_named("zalo fax") == "fax"
    assert _channels_named("") == frozenset()
