"""YES_NO answers: "yep", "sure", "of course", "👍", "nope", "no thanks", "not really", "👎"."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from bot.engine.parsers.base import Parsed
from bot.engine.parsers.cleaning import too_long, word_key

YES_NO_ERROR: Final = "Please answer yes or no."
LEADING: Final = 0.9  # "yes, we use Salesforce": a yes/no followed by more words
_LONGEST_PHRASE: Final = 5

YES: Final = frozenset(
    {
        "yes", "y", "ye", "yeah", "yea", "yeh", "ya", "yah", "yep", "yup", "yas", "yess", "sure", "sure thing",
        "ok", "okay", "okey", "k", "kk", "alright", "all right", "of course", "ofc", "course", "definitely",
        "absolutely", "certainly", "correct", "right", "thats right", "that is right", "true", "indeed",
        "affirmative", "totally", "for sure", "yes please", "please", "please do", "go ahead", "sounds good",
        "sounds great", "i do", "we do", "i am", "we are", "it is", "i have", "we have", "i would", "we would",
        "i will", "we will", "i think so", "i guess so", "i believe so", "exactly", "agreed", "agree", "aye",
        "si", "oui", "ja", "yessir", "uh huh", "mhm", "you bet", "deal", "why not", "no problem", "no prob",
        "no worries", "no doubt", "without a doubt", "certainly yes", "great", "perfect", "cool", "fine",
        "good", "lets do it", "go for it", "yes we do", "yes i do", "yes of course", "definitely yes",
    }
)  # fmt: skip
NO: Final = frozenset(
    {
        "no", "n", "nope", "nah", "na", "naw", "nay", "no thanks", "no thank you", "no thx", "not really",
        "not at all", "never", "negative", "false", "wrong", "incorrect", "i dont", "we dont", "i do not",
        "we do not", "i am not", "im not", "we are not", "were not", "we arent", "not yet", "not now",
        "nothing", "none", "no way", "definitely not", "absolutely not", "of course not", "certainly not",
        "not interested", "i dont think so", "dont think so", "nein", "non", "nada", "no sir", "hell no",
        "not for now", "no need", "pass", "ill pass", "i will pass", "i have not", "we have not", "havent",
        "i havent", "we havent", "dont", "do not", "not", "isnt", "its not", "it is not", "no we dont",
        "no i dont", "not really no", "nope not yet", "no not yet", "not today", "no not really",
    }
)  # fmt: skip
# Answers that are neither: checked before reading a leading yes/no ("no idea" is not "no").
_UNSURE: Final = re.compile(
    r"\b(?:not sure|unsure|maybe|perhaps|dont know|do not know|dunno|idk|no idea|not certain|possibly|might|"
    r"depends|kind of|kinda|sort of|sorta|yes and no|yes or no|hard to say|undecided|not decided|who knows|"
    r"no clue|partly|partially|somewhat|probably|not exactly|not necessarily|it varies)\b"
)
# Fine as a whole answer, but they open sentences that mean something else ("right now we...",
# "we have no budget", "not bad", "ok, but later").
_WEAK_OPENERS: Final = frozenset(
    {
        "right", "true", "fine", "good", "great", "cool", "deal", "please", "k", "y", "n", "ok", "okay", "course",
        "pass", "nothing", "none", "not", "dont", "do not", "i am", "we are", "it is", "i have", "we have", "i do",
        "we do", "i would", "we would", "i will", "we will", "false", "wrong", "na", "ya", "ye", "si", "non",
        "ja", "agree", "perfect", "kk", "alright", "all right",
    }
)  # fmt: skip
_YES_EMOJI: Final = frozenset("👍✅✔👌🆗💯☑🙌")
_NO_EMOJI: Final = frozenset("👎❌✖🚫⛔🙅✗✘")
_REPEATS: Final = re.compile(r"(\w)\1+")


@dataclass(frozen=True, kw_only=True)
class YesNo:
    """A yes or no read from a text."""

    value: bool
    confidence: float


def parse_yes_no(text: str) -> Parsed:
    """Read a yes or a no; the value is True or False. Unsure or mixed answers are not ok."""
    said = read_yes_no(text)
    if said is None:
        return Parsed(ok=False, error=YES_NO_ERROR)
    return Parsed(ok=True, value=said.value, confidence=said.confidence)


def read_yes_no(text: str) -> YesNo | None:
    """The yes or no `text` says, or None when it says neither, both, or is unsure."""
    if too_long(text):
        return None
    key = word_key(text)
    if not key:
        return _from_emoji(text)
    exact = _lookup(key) if len(key.split()) <= _LONGEST_PHRASE else None
    if exact is None:
        exact = _lookup(_REPEATS.sub(r"\1", key))  # "yesss", "noooo", "yeaaah"
    if exact is not None:
        return YesNo(value=exact, confidence=1.0)
    if _UNSURE.search(key):
        return None
    return _leading(key.split())


def is_yes_or_no(key: str) -> bool:
    """Is the word key (see `cleaning.word_key`) just a yes/no word or phrase ("sure", "nope")? Used to reject
    them as names."""
    return _lookup(key) is not None


def _lookup(key: str) -> bool | None:
    if key in YES:
        return True
    if key in NO:
        return False
    return None


def _leading(words: list[str]) -> YesNo | None:
    """A yes/no phrase opening a longer answer: "yes, we use HubSpot", "nope, not this year"."""
    for length in range(min(_LONGEST_PHRASE, len(words) - 1), 0, -1):
        opener = " ".join(words[:length])
        said = _lookup(opener)
        if said is None or opener in _WEAK_OPENERS:
            continue
        rest = _lookup(words[length])
        if rest is not None and rest is not said and words[length] not in ("not", "n", "y"):
            return None  # "yes no"
        return YesNo(value=said, confidence=LEADING)
    return None


def _from_emoji(text: str) -> YesNo | None:
    yes = any(char in _YES_EMOJI for char in text)
    no = any(char in _NO_EMOJI for char in text)
    if yes == no:
        return None
    return YesNo(value=yes, confidence=1.0)
