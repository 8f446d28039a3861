"""/healthz and /metrics on the webhook listener: what the balancer and monitoring read."""

from __future__ import annotations

import httpx

from tests.test_webhook import webhook_bot  # noqa: F401 (the fixture)


async def test_healthz_says_the_database_channels_leader_and_backlog(webhook_bot) -> None:  # noqa: F811
    listen = webhook_bot.running.keepers[0].channel.settings.webhook_listen
    async with httpx.AsyncClient() as client:
        response = await client.get(f"http://{listen}/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] and body["database"] and body["leader"] is True
    assert body["channels"]["telegram"] == "up"
    assert body["outbox_backlog"] == 0 and body["oldest_pending_seconds"] == 0


async def test_metrics_count_updates_and_messages_in_prometheus_format(webhook_bot) -> None:  # noqa: F811
    await webhook_bot.link("SXD-CV")
    await webhook_bot.send("SXD-CV", "/viec")
    listen = webhook_bot.running.keepers[0].channel.settings.webhook_listen
    async with httpx.AsyncClient() as client:
        response = await client.get(f"http://{listen}/metrics")
    assert response.status_code == 200
    text = response.text
    assert 'dondoc_updates_handled_total{channel="telegram"}' in text
    assert 'dondoc_messages_sent_total{channel="telegram",kind="reply"}' in text
    assert "dondoc_outbox_backlog 0.0" in text and "dondoc_leader 1.0" in text
