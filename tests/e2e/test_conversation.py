"""A prospect qualifies through the widget on the demo page, across reloads, tabs and pushed follow-ups."""

from __future__ import annotations

import asyncio
from typing import Any

from playwright.async_api import expect

from tests.e2e.conftest import Site
from tests.e2e.driver import WidgetDriver

NAME_QUESTION = "First, what's your name?"


async def test_default_flow_ends_with_a_hot_lead_and_a_booking_link(site: Site) -> None:
    chat = await WidgetDriver(await site.new_page()).visit()
    await chat.page.get_by_role("button", name="Talk to us").first.click()  # the demo page's own call to action
    await expect(chat.panel).to_be_visible()
    await chat.expect_bot(NAME_QUESTION)

    await chat.answer("Dana", then="Which company are you with?")
    await chat.answer("Acme Robotics", then="What best describes your role at Acme Robotics?")
    await chat.pick("Founder / executive")
    await chat.expect_bot("Who decides on buying a tool like Beacon?")
    await chat.pick("I make the decision")
    await chat.expect_bot("Roughly how many people work at Acme Robotics?")
    await chat.answer("about 300 people", then="Pick all that apply")
    await chat.pick("Reduce churn")
    await chat.pick("Customer reporting")
    await chat.pick("Send")
    await expect(chat.mine("Reduce churn, Customer reporting")).to_be_visible()
    await chat.expect_bot("When are you hoping to have a solution in place?")
    await chat.answer("next quarter", then="Do you have a budget in mind")
    await chat.answer("$50k a year", then="What's the best work email")
    await chat.answer("dana@acme-robotics.example", then="And a phone number")
    await chat.say("skip")

    await chat.expect_bot("I've alerted our team and a specialist will reach out shortly")
    link = chat.log.get_by_role("link", name="Book a demo")
    await expect(link).to_be_visible()
    assert (await link.get_attribute("href") or "").startswith("https://")
    assert await link.get_attribute("target") == "_blank"
    assert await link.get_attribute("rel") == "noopener noreferrer"
    # answered questions can no longer be answered again by clicking their options
    await expect(chat.log.get_by_role("button", name="I make the decision")).to_be_disabled()
    await expect(chat.typing).to_be_hidden()


async def test_a_reload_mid_conversation_restores_the_history_and_goes_on(site: Site) -> None:
    chat = await WidgetDriver(await site.new_page()).visit()
    await chat.open()
    await chat.answer("Dana", then="Which company are you with?")

    await chat.page.reload()
    await chat.open()
    await chat.expect_bot("Which company are you with?")
    await expect(chat.mine("Dana")).to_have_count(1)
    await expect(chat.log.locator(".msg.bot .text", has_text=NAME_QUESTION)).to_have_count(1)

    await chat.answer("Acme Robotics", then="What best describes your role at Acme Robotics?")
    await chat.pick("Manager / team lead")
    await chat.expect_bot("Who decides on buying a tool like Beacon?")


async def test_a_second_tab_shows_the_same_conversation_and_follows_it(site: Site) -> None:
    first = await WidgetDriver(await site.new_page()).visit()
    await first.open()
    await first.answer("Dana", then="Which company are you with?")

    second = await WidgetDriver(await site.new_page(context=first.page.context)).visit()
    await second.open()
    await second.expect_bot("Which company are you with?")
    await expect(second.mine("Dana")).to_have_count(1)

    await first.answer("Acme Robotics", then="What best describes your role")
    await second.expect_bot("What best describes your role at Acme Robotics?")  # via the `storage` event
    await second.pick("Founder / executive")
    await second.expect_bot("Who decides on buying a tool like Beacon?")
    await first.expect_bot("Who decides on buying a tool like Beacon?")
    await expect(first.mine("Founder / executive")).to_have_count(1)


async def test_a_follow_up_arrives_through_the_event_stream_without_any_action(site: Site) -> None:
    chat = await WidgetDriver(await site.new_page()).visit()
    await chat.open()
    await chat.expect_bot(NAME_QUESTION)

    site.server.clock.advance(minutes=31)  # past ask_name's 30-minute silence nudge
    assert await site.server.fire_due_timers() == 1

    await chat.expect_bot("Still there? Just type your first name to get started.")
    await chat.answer("Dana", then="Which company are you with?")
    await expect(chat.log.locator(".msg.bot .text", has_text="Still there?")).to_have_count(1)


async def test_a_follow_up_while_closed_marks_the_launcher_unread(site: Site) -> None:
    chat = await WidgetDriver(await site.new_page()).visit()
    await chat.open()
    await chat.expect_bot(NAME_QUESTION)
    await chat.page.keyboard.press("Escape")
    await expect(chat.panel).to_be_hidden()

    site.server.clock.advance(minutes=31)
    assert await site.server.fire_due_timers() == 1

    dot = chat.page.locator("#salesbot-widget .dot")
    await expect(dot).to_be_visible()
    await chat.open()
    await chat.expect_bot("Still there?")
    await expect(dot).to_be_hidden()


async def test_a_failing_event_stream_is_reopened_with_backoff_and_catches_up(site: Site) -> None:
    page = await site.new_page()
    attempts: list[str] = []

    async def unreachable_twice(route: Any) -> None:
        attempts.append(route.request.url)
        if len(attempts) <= 2:
            await route.abort("connectionrefused")
        else:
            await route.continue_()

    await page.route("**/events?*", unreachable_twice)
    chat = await WidgetDriver(page).visit()
    await chat.open()
    await chat.expect_bot(NAME_QUESTION)
    site.server.clock.advance(minutes=31)
    assert await site.server.fire_due_timers() == 1  # stored while the widget has no stream

    await chat.expect_bot("Still there?")  # caught up from the history while the stream was down
    for _ in range(100):
        if len(attempts) == 3:
            break
        await asyncio.sleep(0.1)
    assert len(attempts) == 3, attempts  # backed off (1 s, 2 s) and reopened it
    assert attempts[0].endswith("&after=2")  # after the welcome and the name question
    assert attempts[2].endswith("&after=3")  # after the nudge, already shown
    await chat.answer("Dana", then="Which company are you with?")
    await expect(chat.log.locator(".msg.bot .text", has_text="Still there?")).to_have_count(1)
