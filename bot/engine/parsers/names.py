"""NAME and COMPANY answers: the name with the lead-in ("I'm", "my name is", "I work at") stripped."""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from bot.engine.parsers.base import Parsed
from bot.engine.parsers.cleaning import clean, too_long, word_key
from bot.engine.parsers.yesno import is_yes_or_no

NAME_ERROR: Final = "Please tell me your name, like 'Sarah' or 'John Smith'."
COMPANY_ERROR: Final = "Please tell me your company's name, like 'Acme Inc.'."
CONFIDENCE: Final = 0.6  # a name is free text with a few checks: weak evidence
MAX_NAME_CHARS: Final = 80
MAX_NAME_WORDS: Final = 5
MAX_COMPANY_CHARS: Final = 100
MAX_COMPANY_WORDS: Final = 8

# Possessive (*+): once greetings are skipped they are not given back, which keeps "yes yes yes ..." linear.
_GREETING: Final = r"(?:(?:hi|hello|hey|hiya|howdy|sure|ok|okay|yes|yeah|well|um|uhm|erm)\b[\s,.!:;-]*)*+"
_NAME_LEAD: Final = re.compile(
    "^" + _GREETING + r"(?:(?:(?:my|the|first|full)\s+)?name(?:'s|\s+is|:)?|i'?m\s+called|i\s+am\s+called|i'?m|i\s+am|"
    r"it'?s|it\s+is|this\s+is|(?:(?:you|u|people|they|everyone|just|please)\s+(?:can\s+)?)?call\s+me|"
    r"i\s+go\s+by)?\b[\s,:;-]*",
    re.IGNORECASE,
)
_NAME_TAIL: Final = re.compile(
    r"(?:\s*,.*|\s+(?:from|at|with|of|and|here|speaking|thanks|thank\s+you|thx|cheers)\b.*)$",
    re.IGNORECASE | re.DOTALL,
)
_NAME_SEPARATORS: Final = frozenset(" -'.")
_ASCII_NAME: Final = re.compile(r"[A-Za-z \-'.]*")
_ASCII_NOT_ALNUM: Final = "".join(char for char in map(chr, range(128)) if not char.isalnum())
_PARTICLES: Final = frozenset(
    {"de", "da", "del", "della", "di", "van", "von", "der", "den", "la", "le", "du", "dos", "das", "y", "bin", "ibn"}
)
_NOT_NAME_WORDS: Final = frozenset(
    {
        "not", "dont", "know", "why", "what", "who", "where", "how", "is", "are", "am", "my", "your", "thanks",
        "thank", "you", "please", "idea", "sure", "browsing", "looking", "interested", "skip", "none",
        "nothing", "nobody", "anonymous", "it", "this", "that", "the", "a", "an", "to", "for", "rather", "say",
        "prefer", "tell", "name", "want", "need", "help", "question", "hello", "hi", "hey", "test", "asdf",
        "null", "undefined", "me", "there", "everyone", "all", "guys", "folks", "team",
    }
)  # fmt: skip

_COMPANY_LEAD: Final = re.compile(
    "^" + _GREETING + r"(?:"
    r"(?:my|our|the)\s+(?:company|employer|business|organi[sz]ation|startup)(?:'s)?(?:\s+name)?(?:\s+is)?"
    r"(?:\s+(?:called|named))?|company(?:\s+name)?(?:'s|\s+is|:)?|"
    r"i'?m\s+(?:the\s+|a\s+|an\s+)?[\w\s&/-]{1,40}\s+(?:at|of|for|with)|"
    r"(?:i|we)\s+(?:work|am|are)\s+(?:at|for|with|from)|i'?m\s+(?:at|with|from)|we'?re\s+(?:at|with|from)|"
    r"we'?re\s+called|we\s+are\s+called|we'?re|we\s+are|it'?s\s+called|it\s+is\s+called|it'?s|it\s+is|called|"
    r"i\s+(?:run|own|founded|represent|work\s+for|work\s+at)|working\s+(?:at|for)|(?:at|from|with)(?=\s)"
    r")[\s,:;-]+",
    re.IGNORECASE,
)
_COMPANY_TAIL: Final = re.compile(
    r"(?:,\s+(?:a|an|the|we|i|it|and|but|which|where|with|based|located|headquartered|in)\b.*|\s+[-–—]\s+.*"
    r"|(?<!\binc)(?<!\bco)(?<!\bcorp)(?<!\bltd)(?<!\bbros)\.\s+.*)$",
    re.IGNORECASE | re.DOTALL,
)
_KEEP_FINAL_DOT: Final = re.compile(
    r"\b(?:inc|co|corp|ltd|bros|llc|plc|l\.l\.c|s\.a|n\.v|b\.v|a\.g|ag)\.$", re.IGNORECASE
)
_NOT_COMPANY: Final = frozenset(
    {
        "none", "n a", "na", "no company", "not applicable", "nothing", "not sure", "dont know", "idk",
        "rather not say", "id rather not say", "prefer not to say", "skip", "no", "nope", "why", "test",
        "unemployed", "no one", "nobody", "not telling", "none of your business", "null", "undefined",
    }
)  # fmt: skip


def parse_name(text: str) -> Parsed:
    """Read a person's name; the value is title-cased sensibly ("ana maría lópez" -> "Ana María López")."""
    if too_long(text):
        return Parsed(ok=False, error=NAME_ERROR)
    name = _strip_name(clean(text))
    if not _looks_like_name(name):
        return Parsed(ok=False, error=NAME_ERROR)
    return Parsed(ok=True, value=title_case(name), confidence=CONFIDENCE)


def _strip_name(text: str) -> str:
    """Drop the lead-in, what follows the name ("from Acme", ", CTO") and symbols around it ("Sarah :)")."""
    text = _NAME_LEAD.sub("", text.replace("\u2019", "'"), count=1)
    text = " ".join(_NAME_TAIL.sub("", text).split())
    # Letters, marks (Devanagari vowel signs end names) and digits (so "John123" stays and is refused).
    if text.isascii():  # the common case: in ASCII, exactly the letters and digits
        return text.strip(_ASCII_NOT_ALNUM)
    kept = [index for index, char in enumerate(text) if unicodedata.category(char)[0] in "LMN"]
    return text[kept[0] : kept[-1] + 1] if kept else ""


def _looks_like_name(name: str) -> bool:
    if not name or len(name) > MAX_NAME_CHARS or len(name.split()) > MAX_NAME_WORDS:
        return False
    if not _name_chars(name) or not any(char.isalpha() for char in name):
        return False
    key = word_key(name)
    return not (set(key.split()) & _NOT_NAME_WORDS) and not is_yes_or_no(key)


def _name_chars(name: str) -> bool:
    """Is `name` only letters, marks and name separators?"""
    if name.isascii():  # in ASCII, the letters are exactly the alphabetic characters
        return _ASCII_NAME.fullmatch(name) is not None
    return all(char in _NAME_SEPARATORS or unicodedata.category(char)[0] in "LM" for char in name)


def title_case(name: str) -> str:
    """Capitalize each part of a name typed all lower- or upper-case; keep mixed case as typed.

    "john o'neil-mcdonald" -> "John O'Neil-McDonald"; "ludwig van beethoven" -> "Ludwig van Beethoven";
    "DeShawn" stays "DeShawn".
    """
    words = name.split()
    return " ".join(_title_word(word, first=index == 0) for index, word in enumerate(words))


def _title_word(word: str, *, first: bool) -> str:
    if word != word.lower() and word != word.upper():
        return word
    lowered = word.lower()
    if not first and lowered in _PARTICLES:
        return lowered
    return "-".join("'".join(_title_part(part) for part in piece.split("'")) for piece in lowered.split("-"))


def _title_part(part: str) -> str:
    if len(part) > 2 and part.startswith("mc"):
        return "Mc" + part[2:3].upper() + part[3:]
    return part[:1].title() + part[1:]


def parse_company(text: str) -> Parsed:
    """Read a company name; the value keeps the prospect's casing ("we're Globex Corp" -> "Globex Corp")."""
    if too_long(text):
        return Parsed(ok=False, error=COMPANY_ERROR)
    company = _strip_company(clean(text))
    if not _looks_like_company(company):
        return Parsed(ok=False, error=COMPANY_ERROR)
    return Parsed(ok=True, value=company, confidence=CONFIDENCE)


def _strip_company(text: str) -> str:
    text = _COMPANY_LEAD.sub("", text.replace("\u2019", "'"), count=1)
    text = _COMPANY_TAIL.sub("", text)
    text = " ".join(text.strip(" \t\n!?,;:\"'()[]*_~").split())
    return text if _KEEP_FINAL_DOT.search(text) else text.rstrip(". ")


def _looks_like_company(company: str) -> bool:
    if not company or len(company) > MAX_COMPANY_CHARS or len(company.split()) > MAX_COMPANY_WORDS:
        return False
    if "@" in company or any(char in "<>{}\\`|" for char in company):
        return False
    if not any(char.isalnum() for char in company) or company.endswith("?"):
        return False
    key = word_key(company)
    return key not in _NOT_COMPANY and not is_yes_or_no(key)
