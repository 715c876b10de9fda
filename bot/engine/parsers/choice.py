"""CHOICE answers: an option by id, label, synonym, number ("#2"), ordinal ("the last one"), typo or mention."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType
from typing import Final, NamedTuple

from rapidfuzz import fuzz

from bot.engine.parsers.base import AnswerSpec, ChoiceOption, Parsed
from bot.engine.parsers.cleaning import fold, key_of_folded, too_long
from bot.engine.parsers.numerals import TENS, UNITS
from bot.engine.parsers.quantity import Bound, Quantity, scan
from bot.engine.parsers.yesno import read_yes_no

FUZZY_CUTOFF: Final = 80.0
# The best fuzzy option must beat every other option by this much, or the answer is ambiguous.
FUZZY_MARGIN: Final = 6.0
MENTION: Final = 0.9  # "I'm the CTO" for the label "CTO"
_MAX_LISTED: Final = 10
_MAX_FUZZY_WORDS: Final = 12  # longer texts are sentences, not misspelt option names
_MAX_MENTIONS: Final = 32  # more is a pasted list, not an answer; stop looking
_MIN_FUZZY_CHARS: Final = 4  # "cfo" vs "cto": too short to tell a typo from another word

_ORDINALS: Final = MappingProxyType(
    {
        "first": 1, "1st": 1, "former": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4,
        "fifth": 5, "5th": 5, "sixth": 6, "6th": 6, "seventh": 7, "7th": 7, "eighth": 8, "8th": 8,
        "ninth": 9, "9th": 9, "tenth": 10, "10th": 10, "last": -1, "latter": -1, "final": -1,
        "second last": -2, "second to last": -2, "penultimate": -2,
        "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
        "ten": 10,
    }
)  # fmt: skip
_PICK: Final = re.compile(
    r"^(?:(?:i(?:ll| will| would|d)?|we(?:ll| will| would|d)?|lets|let us) )?"
    r"(?:(?:take|pick|choose|select|go with|say|want|prefer|like) )?"
    r"(?:(?:the|option|options|number|no|nr|choice|answer) )*"
    r"(?P<which>\d{1,2}(?:st|nd|rd|th)?|[a-z]+(?: (?:to )?last)?)"
    r"(?: (?:one|option|choice|answer))?(?: (?:please|pls|thanks|thank you))?$"
)
_MARKED_NUMBER: Final = re.compile(r"^(?:#|no\.?|nr\.?|number|option|choice)\s*\d{1,2}\b")
_CURRENCY_MARK: Final = re.compile(r"[$€£¥₹]|\b(?:usd|eur|gbp|dollars?|euros?|pounds?)\b")
_NEGATIONS: Final = frozenset({"not", "no", "never", "isnt", "arent", "dont", "without", "except", "nor", "neither"})
# Words a numeric label may carry besides its number: "11-50 employees", "$10k per month".
_LABEL_UNITS: Final = frozenset(
    {
        "people", "persons", "employees", "staff", "users", "seats", "members", "person", "employee", "user",
        "seat", "usd", "eur", "gbp", "per", "month", "year", "a", "mo", "yr", "team", "company",
    }
)  # fmt: skip
_NUMBERISH_STARTS: Final = frozenset({"just", "only", "solo", "me", "myself", "a", "an", *UNITS, *TENS})


@dataclass(frozen=True, kw_only=True)
class Pick:
    """An option chosen from a text, and how sure the match is."""

    index: int
    confidence: float


@dataclass(frozen=True, kw_only=True)
class Catalog:
    """The options of a question with their folded names and word keys, worked out once per answer."""

    options: tuple[ChoiceOption, ...]
    names: tuple[frozenset[str], ...]  # folded id, label and synonyms of each option
    phrases: tuple[tuple[str, ...], ...]  # their word keys ("decision_maker" -> "decision maker")
    labels: tuple[str, ...]  # folded labels
    # (option, phrase length, " phrase ") for every phrase, longest first: what `mentions` looks for
    needles: tuple[tuple[int, int, str], ...]
    starting_with: Mapping[str, tuple[int, ...]]  # word -> the needles (positions) whose phrase starts with it

    @cached_property
    def bounds(self) -> tuple[Quantity, ...] | None:
        """What each label means as a number, when all are numbers or ranges (see label_bounds)."""
        return label_bounds(self.labels)

    @classmethod
    def of(cls, options: Sequence[ChoiceOption]) -> Catalog:
        """Fold every option's names once, so each matcher compares plain strings."""
        names: list[frozenset[str]] = []
        phrases: list[tuple[str, ...]] = []
        for option in options:
            folded = [fold(name) for name in (option.label, option.id, *option.synonyms)]
            names.append(frozenset(folded))
            phrases.append(tuple(dict.fromkeys(key for key in map(key_of_folded, folded) if key)))
        labels = tuple(fold(option.label) for option in options)
        longest_first = sorted(
            ((index, phrase) for index, found in enumerate(phrases) for phrase in found), key=lambda item: -len(item[1])
        )
        starting_with: dict[str, list[int]] = {}
        for position, (_, phrase) in enumerate(longest_first):
            starting_with.setdefault(phrase.split()[0], []).append(position)
        return cls(
            options=tuple(options), names=tuple(names), phrases=tuple(phrases), labels=labels,
            needles=tuple((index, len(phrase), f" {phrase} ") for index, phrase in longest_first),
            starting_with=MappingProxyType({word: tuple(found) for word, found in starting_with.items()}),
        )


class Said(NamedTuple):
    """An answer in the forms the matchers compare: folded, and as a word key. (A NamedTuple: one is made for
    every answer, and a frozen dataclass costs about twice as much to construct.)"""

    folded: str
    key: str

    @classmethod
    def of(cls, text: str) -> Said:
        """Fold an answer once for all matchers."""
        folded = fold(text)
        return cls(folded=folded, key=key_of_folded(folded))


def catalog_for(spec: AnswerSpec) -> Catalog:
    """The spec's options, folded once. Specs are built once per flow version and shared by every turn, so the
    catalog is kept on the (immutable) spec itself; `prepare()` builds it when the flow compiles."""
    cached = spec.__dict__.get("_catalog")
    if not isinstance(cached, Catalog):
        cached = Catalog.of(spec.options)
        object.__setattr__(spec, "_catalog", cached)
    return cached


def parse_choice(spec: AnswerSpec, text: str) -> Parsed:
    """Read one option; the value is the option id."""
    if too_long(text) or not spec.options:
        return Parsed(ok=False, error=choice_error(spec.options, several=False))
    pick = match_one(catalog_for(spec), Said.of(text))
    if pick is None:
        return Parsed(ok=False, error=choice_error(spec.options, several=False))
    return Parsed(ok=True, value=spec.options[pick.index].id, confidence=pick.confidence)


def match_one(catalog: Catalog, said: Said) -> Pick | None:
    """The single option an answer means, or None when it names none or several."""
    if not said.folded:
        return None
    found = exact(catalog, said) or by_position(catalog, said) or _by_quantity(catalog, said)
    if found is not None:
        return found
    named = {mention.option for mention in mentions(catalog, said.key) if not mention.negated}
    if named:  # "I'm the CTO" names one option; "CTO or influencer" names two and is ambiguous
        return Pick(index=named.pop(), confidence=MENTION) if len(named) == 1 else None
    return _by_yes_no(catalog, said) or fuzzy(catalog, said.key)


def exact(catalog: Catalog, said: Said) -> Pick | None:
    """An option whose id, label or synonym is the whole answer (ignoring case, accents and punctuation)."""
    trimmed = said.folded.strip(" .!?,;:'\"")
    for index, names in enumerate(catalog.names):
        if trimmed and trimmed in names:
            return Pick(index=index, confidence=1.0)
    hits = {index for index, phrases in enumerate(catalog.phrases) if said.key in phrases}
    return Pick(index=hits.pop(), confidence=1.0) if len(hits) == 1 else None


def by_position(catalog: Catalog, said: Said) -> Pick | None:
    """Pick by position: "2", "#2", "option 2", "the second one", "last".

    A bare number is a position unless the labels are numbers themselves ("1-10", "11-50"); then "25"
    means the option holding 25. Amount labels ("$10k-$50k") keep bare numbers as positions.
    """
    match = _PICK.match(said.key)
    if match is None:
        return None
    which = match.group("which")
    count = len(catalog.options)
    if which.isdigit():
        if not _MARKED_NUMBER.match(said.folded) and catalog.bounds is not None and not _money_labels(catalog):
            return None
        position = int(which)
    else:
        position = _ORDINALS.get(which, 0)
    if position < 0:
        position += count + 1
    return Pick(index=position - 1, confidence=1.0) if 1 <= position <= count else None


def _money_labels(catalog: Catalog) -> bool:
    """Labels like "$10k-$50k": a bare "2" is then a position, since nobody's budget is $2."""
    return any(_CURRENCY_MARK.search(label) for label in catalog.labels)


def label_bounds(labels: Sequence[str]) -> tuple[Quantity, ...] | None:
    """The number or range each folded label stands for ("11-50", "200+", "under $10k", "just me"), or None
    unless every label is one."""
    if not all(_could_be_number(label) for label in labels):  # cheap: runs for every bare-number answer
        return None
    bounds = [_label_quantity(label) for label in labels]
    return tuple(bound for bound in bounds if bound is not None) if None not in bounds else None


def _could_be_number(label: str) -> bool:
    return any(char.isdigit() for char in label) or label.split(" ", 1)[0] in _NUMBERISH_STARTS


def _label_quantity(label: str) -> Quantity | None:
    found = scan(label)
    if len(found.quantities) != 1:
        return None
    quantity = found.quantities[0]
    return quantity if found.alone(quantity, _LABEL_UNITS) else None


def _by_quantity(catalog: Catalog, said: Said) -> Pick | None:
    """With numeric labels, the first option whose number or range holds the number in the answer."""
    if catalog.bounds is None:
        return None
    found = scan(said.folded)
    if not found.quantities:
        return None
    quantity = found.quantities[0]
    value = (quantity.low + quantity.high) / 2
    for index, bounds in enumerate(catalog.bounds):
        if _holds(bounds, value):
            return Pick(index=index, confidence=1.0 if found.alone(quantity) else MENTION)
    return None


def _holds(label: Quantity, value: float) -> bool:
    if label.bound is Bound.AT_LEAST:
        return value >= label.low
    if label.bound is Bound.AT_MOST:
        return value <= label.high
    return label.low <= value <= label.high


def _by_yes_no(catalog: Catalog, said: Said) -> Pick | None:
    """Pick by yes/no: "yep" picks the one option labelled like yes; "nope" the one labelled like no."""
    answer = read_yes_no(said.folded)
    if answer is None:
        return None
    labels = [read_yes_no(label) for label in catalog.labels]
    hits = [index for index, label in enumerate(labels) if label is not None and label.value is answer.value]
    return Pick(index=hits[0], confidence=answer.confidence) if len(hits) == 1 else None


class Mention(NamedTuple):
    """Where an option phrase occurs in a word key, and whether a negation precedes it ("not the CTO")."""

    option: int  # index in the catalog
    start: int
    end: int
    negated: bool


def mentions(catalog: Catalog, key: str) -> list[Mention]:
    """Every option phrase found as whole words in a word key: longest phrases first, without overlaps."""
    padded = f" {key} "
    found: list[Mention] = []
    # only the phrases that start with a word of the key can occur in it; taken in the catalog's order
    positions = sorted({position for word in set(key.split()) for position in catalog.starting_with.get(word, ())})
    for position in positions:
        index, length, needle = catalog.needles[position]
        start = padded.find(needle)
        while start >= 0 and len(found) < _MAX_MENTIONS:
            end = start + length  # `start` in `padded` is the phrase's start in `key`
            if not any(m.start < end and start < m.end for m in found):
                found.append(Mention(option=index, start=start, end=end, negated=_negated(key, start)))
            start = padded.find(needle, start + 1)
    return found


def _negated(key: str, start: int) -> bool:
    before = key[max(start - 40, 0) : start].split()[-2:]  # two words back; a bounded slice stays cheap
    return any(word in _NEGATIONS for word in before)


def fuzzy(catalog: Catalog, key: str) -> Pick | None:
    """The option a misspelt answer means ("decison maker"), if one clearly beats the others.

    Compares each option phrase with the whole answer and with every run of about as many words in it,
    so "i am the decison maker" still finds "decision maker" without letting "cto" match inside "director".
    """
    words = key.split()
    if len(key) < 3 or len(words) > _MAX_FUZZY_WORDS:
        return None
    best: dict[int, float] = {}
    for index, phrases in enumerate(catalog.phrases):
        for phrase in phrases:
            if len(phrase) < _MIN_FUZZY_CHARS:
                continue
            score = max(fuzz.ratio(window, phrase) for window in _windows(words, len(phrase.split())))
            best[index] = max(best.get(index, 0.0), score)
    ranked = sorted(best.items(), key=lambda item: -item[1])
    if not ranked or ranked[0][1] < FUZZY_CUTOFF:
        return None
    if len(ranked) > 1 and ranked[0][1] - ranked[1][1] < FUZZY_MARGIN:
        return None
    return Pick(index=ranked[0][0], confidence=round(ranked[0][1] / 100, 2))


def _windows(words: Sequence[str], size: int) -> list[str]:
    runs = [" ".join(words)]
    for length in {max(size - 1, 1), size, size + 1}:
        runs.extend(" ".join(words[i : i + length]) for i in range(len(words) - length + 1))
    return runs


def choice_error(options: Sequence[ChoiceOption], *, several: bool) -> str:
    """The re-prompt listing the options: "Please pick one of: A, B or C."."""
    labels = [option.label for option in options]
    if not labels or len(labels) > _MAX_LISTED:
        return "Please pick one or more of the options." if several else "Please pick one of the options."
    listed = labels[0] if len(labels) == 1 else f"{', '.join(labels[:-1])} or {labels[-1]}"
    if several:
        return f"Please pick one or more of: {listed}."
    return f"Please pick: {listed}." if len(labels) == 1 else f"Please pick one of: {listed}."
