"""Drives the widget as a prospect would: `await chat.say("about 300 people")`, `await chat.pick("Reduce churn")`."""

from __future__ import annotations

from typing import Any

from playwright.async_api import expect

# Playwright's CSS and role locators pierce the widget's open shadow root.
LAUNCHER = "#salesbot-widget .launcher"


class WidgetDriver:
    """One page's widget: its launcher, panel, message log and composer."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.launcher = page.locator(LAUNCHER)
        self.panel = page.locator("#salesbot-widget [role=dialog]")
        self.log = page.locator("#salesbot-widget [role=log]")
        self.input = page.locator("#salesbot-widget textarea")
        self.typing = page.locator("#salesbot-widget .typing")
        self.notice = page.locator("#salesbot-widget .notice > span")

    async def visit(self, path: str = "/") -> WidgetDriver:
        await self.page.goto(path)
        await expect(self.launcher).to_be_visible()
        return self

    async def open(self) -> None:
        await self.launcher.click()
        await expect(self.panel).to_be_visible()

    async def say(self, text: str) -> None:
        await self.input.fill(text)
        await self.input.press("Enter")

    async def pick(self, label: str) -> None:
        """Click the newest option button with this label."""
        await self.log.get_by_role("button", name=label, exact=True).last.click()

    def bot(self, text: str) -> Any:
        """The newest bot bubble containing `text`."""
        return self.log.locator(".msg.bot .text", has_text=text).last

    def mine(self, text: str | None = None) -> Any:
        bubbles = self.log.locator(".msg.me .text")
        return bubbles.filter(has_text=text) if text is not None else bubbles

    async def expect_bot(self, text: str) -> None:
        await expect(self.bot(text)).to_be_visible()

    async def answer(self, text: str, then: str) -> None:
        """Type an answer and wait for the bot's next question."""
        await self.say(text)
        await self.expect_bot(then)

    async def focused(self) -> dict[str, str]:
        """The element with keyboard focus, looking into shadow roots: {"tag", "class", "text"}."""
        found: dict[str, str] = await self.page.evaluate("""() => {
            let el = document.activeElement;
            while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;
            return {tag: el ? el.tagName.toLowerCase() : "", class: el ? String(el.className) : "",
                    text: el ? el.textContent.trim() : ""};
        }""")
        return found

    async def tab_to(self, *, css_class: str = "", text: str = "", backwards: bool = False, limit: int = 40) -> None:
        """Press Tab (or Shift+Tab) until the focused element has this class and/or text."""
        for _ in range(limit):
            await self.page.keyboard.press("Shift+Tab" if backwards else "Tab")
            now = await self.focused()
            if (not css_class or css_class in now["class"].split()) and (not text or now["text"] == text):
                return
        raise AssertionError(f"{limit} Tab presses never reached class={css_class!r} text={text!r}")
