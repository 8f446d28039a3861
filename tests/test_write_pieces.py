"""A job's chunk is written in pieces of bounded text, each notice with its own rows."""

from __future__ import annotations

from models.accounts import ChatChannel
from models.outbox import Envelope, pieces


def envelope(key: str, size: int) -> Envelope:
    return Envelope(key, ChatChannel.TELEGRAM, "100", "x" * size)


def test_small_notices_share_a_write_until_the_text_budget_is_spent() -> None:
    parts = [([f"n{i}"], [envelope(f"n{i}:a", 40), envelope(f"n{i}:b", 40)]) for i in range(5)]
    written = pieces(parts, budget=200)
    assert [keys for keys, _ in written] == [["n0", "n1"], ["n2", "n3"], ["n4"]]
    assert [e.key for e in written[0][1]] == ["n0:a", "n0:b", "n1:a", "n1:b"]


def test_a_notice_bigger_than_the_budget_is_a_write_of_its_own_never_split() -> None:
    letter = (["u1:p1", "u1:p2"], [envelope("u1:p1", 500), envelope("u1:p2", 500)])
    written = pieces([(["a"], [envelope("a", 10)]), letter, (["b"], [])], budget=200)
    assert [keys for keys, _ in written] == [["a"], ["u1:p1", "u1:p2"], ["b"]]


def test_notices_without_rows_and_no_notices_at_all() -> None:
    assert pieces([], budget=10) == []
    assert pieces([(["a"], []), (["b"], [])], budget=10) == [(["a", "b"], [])]
