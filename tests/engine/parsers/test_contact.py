"""EMAIL and PHONE answers: found in a sentence, validated, normalized."""

from __future__ import annotations

import pytest

from bot.engine.parsers import QuestionType
from bot.engine.parsers.contact import EMAIL_ERROR
from tests.engine.parsers.support import parse

EMAIL = QuestionType.EMAIL
PHONE = QuestionType.PHONE


@pytest.mark.parametrize(
    ("text", "address", "confidence"),
    [
        ("john@acme.io", "john@acme.io", 1.0),
        ("  john@acme.io.  ", "john@acme.io", 1.0),
        ("John.Doe@Example.com", "John.Doe@example.com", 1.0),
        ("jane+sales@sub.acme.co.uk", "jane+sales@sub.acme.co.uk", 1.0),
        ("sure, it's John.Doe@Example.com", "John.Doe@example.com", 0.9),
        ("my email is ana@empresa.es, thanks!", "ana@empresa.es", 0.9),
        ("John Doe <john@acme.com>", "john@acme.com", 0.9),
        ("mailto:x@acme.com", "x@acme.com", 0.9),
        ("reach me at bob@acme.com or bob@gmail.com", "bob@acme.com", 0.9),
        ("josé@café.fr", "josé@café.fr", 1.0),
        ("john at acme dot com", "john@acme.com", 0.8),
        ("john [at] acme [dot] io", "john@acme.io", 0.8),
    ],
)
def test_email_addresses(text: str, address: str, confidence: float) -> None:
    parsed = parse(EMAIL, text)
    assert (parsed.ok, parsed.value, parsed.confidence) == (True, address, confidence)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "no",
        "not telling",
        "john@acme",
        "john@",
        "@acme.com",
        "a@b@c.com",
        "john@acme..com",
        "john@localhost",
        "john@site.test",
        "john doe at acme",
        "https://acme.com",
        "<script>alert(1)</script>",
        "'; DROP TABLE leads; --@",
    ],
)
def test_invalid_emails_are_refused_with_an_example(text: str) -> None:
    parsed = parse(EMAIL, text)
    assert (parsed.ok, parsed.error) == (False, EMAIL_ERROR)
    assert "name@company.com" in parsed.error


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("+44 20 7946 0958", "+442079460958"),
        ("+442079460958", "+442079460958"),
        ("0044 20 7946 0958", "+442079460958"),
        ("(415) 555-2671", "+14155552671"),
        ("415-555-2671", "+14155552671"),
        ("415.555.2671", "+14155552671"),
        ("4155552671", "+14155552671"),
        ("+1-415-555-2671 ext 3", "+14155552671"),
        ("+1 (415) 555-2671 x12", "+14155552671"),
        ("call me at 415 555 2671 after 5pm", "+14155552671"),
        ("my cell: +49 30 901820", "+4930901820"),
        ("+33 1 42 68 53 00", "+33142685300"),
    ],
)
def test_phone_numbers_become_e164(text: str, number: str) -> None:
    parsed = parse(PHONE, text)
    assert (parsed.ok, parsed.value) == (True, number)


@pytest.mark.parametrize(
    ("region", "text", "number"),
    [
        ("GB", "020 7946 0958", "+442079460958"),
        ("gb", "020 7946 0958", "+442079460958"),
        ("DE", "030 901820", "+4930901820"),
        ("US", "+44 20 7946 0958", "+442079460958"),
        ("XX", "+44 20 7946 0958", "+442079460958"),
    ],
)
def test_numbers_without_a_country_code_use_the_region(region: str, text: str, number: str) -> None:
    assert parse(PHONE, text, region=region).value == number


@pytest.mark.parametrize(
    "text",
    ["", "none", "12345", "555-2671", "+1 555", "call me", "123-456-7890", "2026-11-26", "+99 1234 5678"],
)
def test_invalid_phone_numbers_are_refused_with_a_regional_example(text: str) -> None:
    parsed = parse(PHONE, text)
    assert (parsed.ok, parsed.error) == (False, "Please enter a valid phone number, like +1 201-555-0123.")


def test_the_example_follows_the_region() -> None:
    assert parse(PHONE, "nope", region="GB").error == "Please enter a valid phone number, like +44 121 234 5678."
    assert parse(PHONE, "020 7946 0958", region="XX").error == (
        "Please enter a valid phone number, like +1 201-555-0123."
    )
