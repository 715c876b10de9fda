"""Lost responses, rate limits, over-long messages and stale sessions: the widget recovers without losing a word."""

from __future__ import annotations

import json
import time
from typing import Any

from playwright.async_api import expect

from tests.e2e.conftest import Site
from tests.e2e.driver import WidgetDriver

MESSAGES = "**/api/chat/sessions/*/messages"


async def _ready(site: Site) -> WidgetDriver:
    chat = await WidgetDriver(await site.new_page()).visit()
    await chat.open()
    await chat.expect_bot("First, what's your name?")
    return chat


async def test_a_lost_response_is_retried_with_the_same_client_message_id(site: Site) -> None:
    chat = await _ready(site)
    sent: list[str] = []

    async def lose_first_response(route: Any) -> None:
        if route.request.method != "POST":
            await route.continue_()
            return
        sent.append(json.loads(route.request.post_data or "{}")["client_message_id"])
        if len(sent) == 1:
            await route.fetch()  # the server handles the message...
            await route.abort("connectionreset")  # ...but the answer never reaches the browser
        else:
            await route.continue_()

    await chat.page.route(MESSAGES, lose_first_response)
    await chat.answer("Dana", then="Which company are you with?")

    assert len(sent) == 2
    assert sent[0] == sent[1]
    assert sent[0].startswith("c-")
    await expect(chat.mine("Dana")).to_have_count(1)
    await expect(chat.log.locator(".msg.bot .text", has_text="Which company")).to_have_count(1)


async def test_a_rate_limited_message_waits_for_retry_after_then_goes_through(site: Site) -> None:
    chat = await _ready(site)
    attempts: list[tuple[float, str]] = []

    async def limit_once(route: Any) -> None:
        if route.request.method != "POST":
            await route.continue_()
            return
        attempts.append((time.monotonic(), json.loads(route.request.post_data or "{}")["client_message_id"]))
        if len(attempts) == 1:
            error = {"error": {"code": "rate_limited", "message": "Too many messages; try again in 1 seconds."}}
            await route.fulfill(status=429, headers={"Retry-After": "1"}, content_type="application/json",
                                body=json.dumps(error))
        else:
            await route.continue_()

    await chat.page.route(MESSAGES, limit_once)
    await chat.say("Dana")
    await expect(chat.notice).to_contain_text("Sending again in 1 s")
    await chat.expect_bot("Which company are you with?")
    await expect(chat.notice).to_be_hidden()

    assert len(attempts) == 2
    assert attempts[0][1] == attempts[1][1]
    assert attempts[1][0] - attempts[0][0] >= 0.9


async def test_a_message_over_the_limit_shows_the_servers_explanation_and_is_kept(site: Site) -> None:
    chat = await _ready(site)
    too_long = "We are a big team. " * 120  # over WEBCHAT_MAX_MESSAGE_CHARS (2000)
    async with chat.page.expect_response(lambda r: r.request.method == "POST" and "/messages" in r.url) as info:
        await chat.say(too_long)
    response = await info.value
    assert response.status == 422
    error = (await response.json())["error"]
    assert error["code"] == "message_too_long"

    await expect(chat.notice).to_have_text(error["message"])
    await expect(chat.mine()).to_have_count(0)
    assert await chat.input.input_value() == too_long.strip()


async def test_a_stored_session_the_server_does_not_know_is_replaced(site: Site) -> None:
    chat = await WidgetDriver(await site.new_page()).visit()
    key = f"salesbot:{site.server.url}:default"
    await chat.page.evaluate("([key, value]) => localStorage.setItem(key, value)",
                             [key, json.dumps({"id": "gone", "token": "stale", "last": 7})])
    await chat.page.reload()
    await chat.open()
    await chat.expect_bot("First, what's your name?")
    stored = json.loads(await chat.page.evaluate("key => localStorage.getItem(key)", key))
    assert stored["id"] != "gone"
    await chat.answer("Dana", then="Which company are you with?")
