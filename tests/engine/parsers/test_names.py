"""NAME and COMPANY answers: the name without the lead-in, sensibly cased."""

from __future__ import annotations

import unicodedata

import pytest

from bot.engine.parsers import QuestionType, names
from bot.engine.parsers.names import COMPANY_ERROR, NAME_ERROR
from tests.engine.parsers.support import parse

NAME = QuestionType.NAME
COMPANY = QuestionType.COMPANY


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("John", "John"),
        ("john", "John"),
        ("john smith", "John Smith"),
        ("JOHN SMITH", "John Smith"),
        ("I'm Sarah", "Sarah"),
        ("I’m Sarah.", "Sarah"),
        ("i am sarah", "Sarah"),
        ("my name is Ana María López", "Ana María López"),
        ("my name is ana maría lópez", "Ana María López"),
        ("it's Jean-Luc", "Jean-Luc"),
        ("jean-luc picard", "Jean-Luc Picard"),
        ("call me Bob", "Bob"),
        ("you can call me Bob!", "Bob"),
        ("Hi, I'm Sarah from Acme", "Sarah"),
        ("hello! this is Priya", "Priya"),
        ("Hello, Sarah", "Sarah"),
        ("yes, John", "John"),
        ("Yesenia", "Yesenia"),
        ("Name: Chen Wei", "Chen Wei"),
        ("Sarah here", "Sarah"),
        ("the name's Bond", "Bond"),
        ("john mcdonald", "John McDonald"),
        ("o'neil", "O'Neil"),
        ("d'angelo", "D'Angelo"),
        ("ludwig van beethoven", "Ludwig van Beethoven"),
        ("maria de la cruz", "Maria de la Cruz"),
        ("DeShawn Jones", "DeShawn Jones"),
        ("McKenzie", "McKenzie"),
        ("J. R. R. Tolkien", "J. R. R. Tolkien"),
        ("Imogen", "Imogen"),
        ("Itsuki", "Itsuki"),
        ("محمد علي", "محمد علي"),
        ("李雷", "李雷"),
        ("Zoë", "Zoë"),
        ("शिवा", "शिवा"),
        ("Sarah :)", "Sarah"),
        ("Sarah 😊", "Sarah"),
        ('"John"', "John"),
    ],
)
def test_names(text: str, name: str) -> None:
    parsed = parse(NAME, text)
    assert (parsed.ok, parsed.value, parsed.confidence) == (True, name, 0.6)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "Hi",
        "hey there",
        "it's me, Mario",
        "123",
        "42",
        "john@example.com",
        "yes",
        "no",
        "sure",
        "nope",
        "I'd rather not say",
        "why do you need it?",
        "not telling",
        "I am the CEO",
        "one two three four five six",
        "x" * 81,
        "<script>alert(1)</script>",
        "Robert'); DROP TABLE students;--",
        "John123",
        "🙂",
        "http://spam.example",
    ],
)
def test_things_that_are_not_names_are_refused(text: str) -> None:
    parsed = parse(NAME, text)
    assert (parsed.ok, parsed.error) == (False, NAME_ERROR)


@pytest.mark.parametrize(
    ("text", "company"),
    [
        ("Acme", "Acme"),
        ("acme", "acme"),
        ("Acme Inc.", "Acme Inc."),
        ("Acme, Inc.", "Acme, Inc."),
        ("ACME Corp", "ACME Corp"),
        ("we're Globex Corporation", "Globex Corporation"),
        ("We are Initech", "Initech"),
        ("I work at Initech", "Initech"),
        ("i work for Umbrella Corp.", "Umbrella Corp."),
        ("I'm with Stark Industries", "Stark Industries"),
        ("I'm the CTO at Acme", "Acme"),
        ("I'm the head of sales of Hooli", "Hooli"),
        ("my company is foo.io", "foo.io"),
        ("our company is called Pied Piper", "Pied Piper"),
        ("It's called Umbrella", "Umbrella"),
        ("company: Wayne Enterprises", "Wayne Enterprises"),
        ("at Acme Corp", "Acme Corp"),
        ("foo.io.", "foo.io"),
        ("Acme. We sell widgets.", "Acme"),
        ("Acme, a logistics company", "Acme"),
        ("Acme, with offices in Paris", "Acme"),
        ("Acme - we make anvils", "Acme"),
        ("AT&T", "AT&T"),
        ("3M", "3M"),
        ("7-Eleven", "7-Eleven"),
        ("Withings", "Withings"),
        ("The Home Depot", "The Home Depot"),
        ("Société Générale", "Société Générale"),
        ("株式会社トヨタ", "株式会社トヨタ"),
    ],
)
def test_companies(text: str, company: str) -> None:
    parsed = parse(COMPANY, text)
    assert (parsed.ok, parsed.value, parsed.confidence) == (True, company, 0.6)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "none",
        "n/a",
        "N/A",
        "no company",
        "not sure",
        "yes",
        "no",
        "why?",
        "john@acme.com",
        "<b>Acme</b>",
        "one two three four five six seven eight nine",
        "a" * 101,
        "!!!",
    ],
)
def test_things_that_are_not_companies_are_refused(text: str) -> None:
    parsed = parse(COMPANY, text)
    assert (parsed.ok, parsed.error) == (False, COMPANY_ERROR)


def test_ascii_shortcuts_follow_the_unicode_rules() -> None:
    for char in map(chr, range(128)):
        assert names._name_chars(char) == (char in " -'." or unicodedata.category(char)[0] in "LM"), repr(char)
        kept = char.strip(names._ASCII_NOT_ALNUM) == char
        assert kept == (unicodedata.category(char)[0] in "LMN"), repr(char)
