"""Progress bars: in a terminal only; cron, CI and redirected output see nothing."""

from __future__ import annotations

import pytest

from bot.operator import progress


def test_quiet_when_not_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    with progress.steps("Nhập", ["đọc", "ghi"]) as step:
        step("đọc")
        step("ghi")
    with progress.counted("nhiệm vụ", 100, "nv") as advance:
        advance(100)
    assert capsys.readouterr() == ("", "")


def test_a_bar_in_a_terminal(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setattr(progress, "in_terminal", lambda: True)
    with progress.steps("Nhập", ["đọc", "ghi"]) as step:
        step("đọc")
        step("ghi")
    with progress.counted("nhiệm vụ", 100, "nv") as advance:
        advance(100)
    out, err = capsys.readouterr()
    assert out == "" and "Nhập" in err and "nhiệm vụ" in err
