"""Keyboard-only use, a phone-sized screen, and embedding on another page with data-* settings."""

from __future__ import annotations

import json

from playwright.async_api import expect

from tests.e2e.conftest import PHONE, Site
from tests.e2e.driver import WidgetDriver


async def test_keyboard_only_open_answer_choose_and_close(site: Site) -> None:
    chat = await WidgetDriver(await site.new_page()).visit()
    await chat.tab_to(css_class="launcher")
    assert await chat.launcher.evaluate("el => getComputedStyle(el).outlineStyle") != "none"  # visible focus
    await expect(chat.launcher).to_have_attribute("aria-expanded", "false")

    await chat.page.keyboard.press("Enter")
    await expect(chat.panel).to_be_visible()
    await expect(chat.launcher).to_have_attribute("aria-expanded", "true")
    assert (await chat.focused())["tag"] == "textarea"
    await chat.expect_bot("First, what's your name?")

    await chat.page.keyboard.type("Da")
    await chat.page.keyboard.press("Shift+Enter")  # a new line, not a send
    await chat.page.keyboard.type("na")
    assert await chat.input.input_value() == "Da\nna"
    await expect(chat.mine()).to_have_count(0)
    await chat.page.keyboard.press("Control+A")
    await chat.page.keyboard.type("Dana")
    await chat.page.keyboard.press("Enter")
    await chat.expect_bot("Which company are you with?")
    await chat.page.keyboard.type("Acme Robotics")
    await chat.page.keyboard.press("Enter")
    await chat.expect_bot("What best describes your role")

    await chat.tab_to(css_class="opt", text="Manager / team lead", backwards=True)
    await chat.page.keyboard.press("Enter")
    await chat.expect_bot("Who decides on buying a tool like Beacon?")
    assert (await chat.focused())["tag"] == "textarea"  # back in the composer after choosing

    await chat.page.keyboard.press("Escape")
    await expect(chat.panel).to_be_hidden()
    await expect(chat.launcher).to_have_attribute("aria-expanded", "false")
    assert "launcher" in (await chat.focused())["class"]


async def test_the_open_panel_fills_a_phone_screen(site: Site) -> None:
    chat = await WidgetDriver(await site.new_page(viewport=PHONE)).visit()
    await chat.open()
    assert await chat.panel.bounding_box() == {"x": 0, "y": 0, "width": PHONE["width"], "height": PHONE["height"]}
    await expect(chat.launcher).to_be_hidden()
    await chat.answer("Dana", then="Which company are you with?")

    await chat.page.get_by_role("button", name="Close chat").click()
    await expect(chat.panel).to_be_hidden()
    await expect(chat.launcher).to_be_focused()


def _embed_page(**data: str) -> str:
    attrs = " ".join(f'data-{name}="{value}"' for name, value in data.items())
    return ("<!doctype html><html><head><meta name='viewport' content='width=device-width'><title>Partner</title>"
            f"</head><body><h1>A partner's site</h1><script src='/widget.js' {attrs} defer></script></body></html>")


async def test_embedding_settings_are_read_from_the_script_tag(site: Site) -> None:
    page = await site.new_page()
    html = _embed_page(flow="default", title="Ask &lt;b&gt;Beacon&lt;/b&gt;", color="#0f766e", position="left",
                       open="true", source="partner-page", greeting="Hi there!")
    await page.route("**/partner*", lambda route: route.fulfill(content_type="text/html", body=html))
    chat = WidgetDriver(page)
    async with page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/api/chat/sessions")) as info:
        await page.goto("/partner?utm_source=newsletter&utm_campaign=spring&ref=abc")  # data-open starts the chat
    assert json.loads((await info.value).post_data or "{}") == {
        "flow": "default", "source": "partner-page", "utm_source": "newsletter", "utm_campaign": "spring"}

    await expect(chat.panel).to_be_visible()
    await expect(chat.panel).to_have_attribute("aria-label", "Ask <b>Beacon</b>")
    await expect(page.locator("#salesbot-widget h2")).to_have_text("Ask <b>Beacon</b>")
    header = page.locator("#salesbot-widget header")
    assert await header.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(15, 118, 110)"
    box = await chat.launcher.bounding_box()
    assert box is not None
    assert box["x"] < 100  # bottom-left
    await chat.expect_bot("First, what's your name?")


async def test_a_colour_that_is_not_a_plain_colour_is_ignored(site: Site) -> None:
    page = await site.new_page()
    html = _embed_page(flow="default", color="red;background:url(https://evil.example/x.png)", open="true")
    await page.route("**/partner*", lambda route: route.fulfill(content_type="text/html", body=html))
    chat = WidgetDriver(page)
    await page.goto("/partner")
    await expect(chat.panel).to_be_visible()
    header = page.locator("#salesbot-widget header")
    assert await header.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(67, 56, 202)"  # default
    assert site.guard.blocked == []


async def test_the_page_can_open_close_and_reset_the_chat_through_one_global(site: Site) -> None:
    chat = await WidgetDriver(await site.new_page()).visit()
    assert await chat.page.evaluate("Object.keys(window.SalesbotWidget)") == ["open", "close", "reset"]
    await chat.page.evaluate("window.SalesbotWidget.open()")
    await expect(chat.panel).to_be_visible()
    await chat.answer("Dana", then="Which company are you with?")

    await chat.page.evaluate("window.SalesbotWidget.reset()")
    await chat.expect_bot("First, what's your name?")
    await expect(chat.mine()).to_have_count(0)
    await chat.page.evaluate("window.SalesbotWidget.close()")
    await expect(chat.panel).to_be_hidden()
