"""MULTI_CHOICE answers: several options in one text ("CRM and email", "1, 3", "all of them", "both")."""

from __future__ import annotations

import re
from typing import Final

from bot.engine.parsers.base import AnswerSpec, Parsed
from bot.engine.parsers.choice import (
    Catalog,
    Pick,
    Said,
    by_position,
    catalog_for,
    choice_error,
    exact,
    fuzzy,
    mentions,
)
from bot.engine.parsers.cleaning import key_of_folded, too_long

PARTIAL: Final = 0.8  # some of the answer matched no option ("CRM, email and carrier pigeons")

_ALL: Final = frozenset(
    {
        "all", "all of them", "all of the above", "all the above", "everything", "every one", "all options",
        "all of those", "all of these", "all the options", "the lot", "all three", "all four", "all five",
        "any", "any of them", "yes all", "all please", "all of it", "every option", "each",
    }
)  # fmt: skip
_BOTH: Final = frozenset({"both", "both of them", "both options", "the two", "both please", "yes both"})
_NONE: Final = frozenset({"none", "neither", "none of them", "nothing", "none of the above", "neither of them", "no"})
_ALL_BUT: Final = re.compile(
    r"^(?:all|everything)(?: of them)? (?:except|but|apart from|other than|besides) (?P<rest>.+)$"
)
_SEPARATOR_MARKS: Final = re.compile(r"[,;/&+|\n]")
_SEPARATOR_WORDS: Final = re.compile(r"\b(?:and|or|plus|also|as well as|together with|along with|n)\b")
_FILLERS: Final = frozenset(
    {
        "we", "use", "using", "i", "need", "want", "like", "would", "the", "a", "an", "also", "and", "or",
        "mostly", "mainly", "currently", "probably", "maybe", "definitely", "please", "thanks", "of", "them",
        "those", "these", "options", "option", "too", "as", "well", "some", "in", "for", "interested", "its",
        "our", "my", "both", "pick", "choose", "take", "do", "is", "are", "with", "on", "but", "not", "no",
        "except", "without", "dont",
    }
)  # fmt: skip


def parse_multi_choice(spec: AnswerSpec, text: str) -> Parsed:
    """Read one or more options; the value is their ids in option order, without repeats."""
    options = spec.options
    if too_long(text) or not options:
        return Parsed(ok=False, error=choice_error(options, several=True))
    catalog, said = catalog_for(spec), Said.of(text)
    whole = exact(catalog, said)
    if whole is not None:
        return Parsed(ok=True, value=[options[whole.index].id], confidence=1.0)
    if said.key in _ALL or (said.key in _BOTH and len(options) == 2):
        return Parsed(ok=True, value=[option.id for option in options], confidence=1.0)
    if said.key in _NONE or said.key in _BOTH:
        return Parsed(ok=False, error=choice_error(options, several=True))
    excluded = _ALL_BUT.match(said.key)
    picks, partial = _collect(catalog, excluded.group("rest") if excluded else said.folded)
    if excluded:
        named = {pick.index for pick in picks}
        picks = [Pick(index=index, confidence=1.0) for index in range(len(options)) if index not in named]
    if not picks:
        return Parsed(ok=False, error=choice_error(options, several=True))
    chosen = sorted({pick.index for pick in picks})
    confidence = min(pick.confidence for pick in picks)
    return Parsed(
        ok=True,
        value=[options[index].id for index in chosen],
        confidence=min(confidence, PARTIAL) if partial else confidence,
    )


def _collect(catalog: Catalog, folded: str) -> tuple[list[Pick], bool]:
    """Every option named in a folded text, and whether some part of it named none."""
    key = key_of_folded(_SEPARATOR_MARKS.sub(" and ", folded))
    found = mentions(catalog, key)
    picks = [Pick(index=mention.option, confidence=1.0) for mention in found if not mention.negated]
    for mention in sorted(found, key=lambda mention: -mention.start):
        key = f"{key[: mention.start]} and {key[mention.end :]}"
    partial = False
    for part in _SEPARATOR_WORDS.split(key):
        words = [word for word in part.split() if word not in _FILLERS]
        if not words:
            continue
        matched = _match_part(catalog, words)
        picks.extend(matched)
        partial = partial or not matched
    return picks, partial


def _match_part(catalog: Catalog, words: list[str]) -> list[Pick]:
    if all(word.isdigit() for word in words):
        found = [by_position(catalog, Said.of(f"#{word}")) for word in words]
        return [pick for pick in found if pick is not None]
    said = Said.of(" ".join(words))
    pick = exact(catalog, said) or by_position(catalog, said) or fuzzy(catalog, said.key)
    return [] if pick is None else [pick]
