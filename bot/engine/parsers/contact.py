"""EMAIL and PHONE answers, found inside a sentence and checked with email-validator and phonenumbers."""

from __future__ import annotations

import functools
import re
from typing import Final

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from bot.engine.parsers.base import AnswerSpec, Parsed
from bot.engine.parsers.cleaning import clean, too_long

EMAIL_ERROR: Final = "Please enter a valid email address, like name@company.com."
IN_SENTENCE: Final = 0.9
SPELLED_OUT: Final = 0.8  # "john at acme dot com"

# Bounded by the RFC's 64-character local part and 255-character domain, which keeps matching linear.
_EMAIL: Final = re.compile(r"[^\s<>()\[\]{},;:\"'`|@]{1,64}@[^\s<>()\[\]{},;:\"'`|@]{1,255}")
_SPELLED_EMAIL: Final = re.compile(
    r"^([\w.+-]+)\s*(?:\s+at\s+|\[at\]|\(at\))\s*([\w-]+(?:\s*(?:\s+dot\s+|\[dot\]|\(dot\)|\.)\s*[\w-]+)+)$",
    re.IGNORECASE,
)
_SPELLED_DOT: Final = re.compile(r"\s*(?:\s+dot\s+|\[dot\]|\(dot\)|\.)\s*", re.IGNORECASE)
_PHONE: Final = re.compile(
    r"(?:\+|\b00)?\s?\(?(?<!\d)\d[\d\s().\-/]{4,24}\d(?:\s*(?:ext\.?|extension|x|#)\s*\d{1,6})?", re.IGNORECASE
)
_MIN_PHONE_DIGITS: Final = 6


def parse_email(text: str) -> Parsed:
    """Find and validate an email address; the value is its normalized form (domain lower-cased)."""
    if too_long(text):
        return Parsed(ok=False, error=EMAIL_ERROR)
    cleaned = clean(text)
    for candidate in _EMAIL.findall(cleaned):
        address = _valid_email(candidate.strip(".!?"))
        if address is not None:
            whole = candidate.strip(".!?") == cleaned.strip(".!? ")
            return Parsed(ok=True, value=address, confidence=1.0 if whole else IN_SENTENCE)
    spelled = _SPELLED_EMAIL.match(cleaned.strip(".!? "))
    if spelled is not None:
        domain = _SPELLED_DOT.sub(".", spelled.group(2))
        address = _valid_email(f"{spelled.group(1)}@{domain}")
        if address is not None:
            return Parsed(ok=True, value=address, confidence=SPELLED_OUT)
    return Parsed(ok=False, error=EMAIL_ERROR)


def _valid_email(candidate: str) -> str | None:
    try:
        return validate_email(candidate, check_deliverability=False).normalized
    except EmailNotValidError:
        return None


def parse_phone(spec: AnswerSpec, text: str) -> Parsed:
    """Find a valid phone number; the value is its E.164 form ("+14155552671"; extensions are dropped).

    Numbers without a +country code are read as numbers of `spec.region`.
    """
    region = _region(spec.region)
    if too_long(text):
        return Parsed(ok=False, error=phone_error(region))
    cleaned = clean(text)
    for match in _PHONE.finditer(cleaned):
        candidate = match.group().strip()
        if candidate.startswith("00"):  # the international prefix nearly everywhere but North America
            candidate = "+" + candidate[2:]
        if sum(char.isdigit() for char in candidate) < _MIN_PHONE_DIGITS:
            continue
        number = _valid_phone(candidate, region)
        if number is not None:
            whole = candidate == cleaned.strip(".!? ")
            return Parsed(ok=True, value=number, confidence=1.0 if whole else IN_SENTENCE)
    return Parsed(ok=False, error=phone_error(region))


def _region(region: str) -> str | None:
    upper = region.upper()
    return upper if upper in phonenumbers.SUPPORTED_REGIONS else None


def _valid_phone(candidate: str, region: str | None) -> str | None:
    try:
        number = phonenumbers.parse(candidate, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


@functools.cache  # one string per region: building the example number costs tens of microseconds
def phone_error(region: str | None) -> str:
    """The re-prompt, with an example number of the expected region."""
    example = phonenumbers.example_number(region or "US")
    if example is None:
        return "Please enter a valid phone number with its country code, like +1 201-555-0123."
    shown = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return f"Please enter a valid phone number, like {shown}."
