"""Whatever a prospect, a rep or a flow author writes is shown as text; only safe link schemes become links."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from playwright.async_api import expect

from tests.e2e.conftest import Site
from tests.e2e.driver import WidgetDriver

PAYLOADS = ["<img src=x onerror=alert(1)>", "<script>alert(1)</script>"]


async def test_markup_typed_by_a_prospect_is_shown_as_literal_text(site: Site) -> None:
    chat = await WidgetDriver(await site.new_page()).visit()
    await chat.open()
    await chat.expect_bot("First, what's your name?")

    for payload in PAYLOADS:
        await chat.say(payload)
        await expect(chat.mine(payload)).to_have_count(1)
        await expect(chat.log.locator(".msg.me.pending")).to_have_count(0)  # the server has answered it
    await expect(chat.typing).to_be_hidden()

    assert await chat.mine().all_text_contents() == PAYLOADS
    assert await chat.log.locator("img, script, iframe, object, embed").count() == 0
    assert site.guard.dialogs == []


def _message(message_id: int, author: str, text: str, **extra: Any) -> dict[str, Any]:
    return {"id": message_id, "direction": "out", "author": author, "created_at": "2026-11-26T16:50:20+00:00",
            "text": text, "options": [], "buttons": [], "multiple": False, "state": None, **extra}


HOSTILE_HISTORY = [
    _message(1, "bot", "Here are some links:", buttons=[
        {"label": "Run a script", "url": "javascript:alert(1)"},
        {"label": "Data page", "url": "data:text/html,<script>alert(1)</script>"},
        {"label": "Relative", "url": "/admin"},
        {"label": "Book a demo", "url": "https://cal.example.com/beacon/demo"},
        {"label": "Email us", "url": "mailto:sales@beacon.example"},
        {"label": "Call us", "url": "tel:+15550100"},
    ]),
    _message(2, "rep", "Hi, Sam from sales here. <b>Bold</b> claims <img src=x onerror=alert(2)>"),
]


async def _hostile_api(route: Any) -> None:
    """Stands in for a server (or a flow author) sending the widget hostile data."""
    path = urlsplit(route.request.url).path
    if route.request.method == "POST" and path == "/api/chat/sessions":
        body = {"session_id": "s-hostile", "token": "t", "flow": "default", "messages": HOSTILE_HISTORY}
        await route.fulfill(status=201, content_type="application/json", body=json.dumps(body))
    elif path.endswith("/events"):
        await route.fulfill(status=200, content_type="text/event-stream", body=": ping\n\n")
    else:
        await route.fulfill(status=200, content_type="application/json", body=json.dumps({"messages": HOSTILE_HISTORY}))


async def test_only_http_mailto_and_tel_buttons_become_links_and_reps_are_labelled(site: Site) -> None:
    page = await site.new_page()
    await page.route("**/api/chat/sessions**", _hostile_api)
    chat = await WidgetDriver(page).visit()
    await chat.open()
    await chat.expect_bot("Here are some links:")

    links = chat.log.get_by_role("link")
    await expect(links).to_have_text(["Book a demo", "Email us", "Call us"])
    assert [await link.get_attribute("href") for link in await links.all()] == [
        "https://cal.example.com/beacon/demo", "mailto:sales@beacon.example", "tel:+15550100"]
    for link in await links.all():
        assert await link.get_attribute("rel") == "noopener noreferrer"
    await expect(chat.log.get_by_text("Run a script")).to_have_count(0)

    rep = chat.log.locator(".msg.rep")
    await expect(rep.locator(".who")).to_have_text("Sales team")
    await expect(rep.locator(".text")).to_have_text(HOSTILE_HISTORY[1]["text"])
    assert await chat.log.locator("b, img, script").count() == 0
