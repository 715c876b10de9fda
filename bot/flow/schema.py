"""The flow file format as pydantic models. `docs/flows.md` documents every key defined here."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from bot.engine.parsers.base import QuestionType
from bot.engine.types import Outcome

IDENT = r"^[A-Za-z_][A-Za-z0-9_]*$"
CURRENCY_CODE = r"^[A-Z]{3}$"
COUNTRY_CODE = r"^[A-Z]{2}$"
Ident = Annotated[str, Field(pattern=IDENT, max_length=64)]
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|hr|d|day|days|w|week|weeks)\s*$")
_UNIT_SECONDS = {
    "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600,
    "d": 86400, "day": 86400, "days": 86400, "w": 604800, "week": 604800, "weeks": 604800,
}


def parse_duration(raw: object) -> timedelta:
    """Turn '90s', '30m', '2h', '3d' or '1w' into a timedelta."""
    if isinstance(raw, timedelta):
        return raw
    match = _DURATION.match(str(raw))
    if not match:
        raise ValueError(f"'{raw}' is not a duration; write a number and a unit, like 30m, 2h, 3d or 1w")
    return timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2)])


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


def _as_list(raw: object) -> object:
    if raw is None:
        return []
    return [raw] if isinstance(raw, str) else raw


TextList = Annotated[list[str], BeforeValidator(_as_list)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class OptionSpec(_Model):
    """A choice option. Written as a mapping, or as a plain label whose id is derived from it."""

    id: Ident
    label: str
    synonyms: list[str] = []

    @model_validator(mode="before")
    @classmethod
    def _from_label(cls, raw: object) -> object:
        if isinstance(raw, str):
            slug = re.sub(r"[^a-z0-9]+", "_", raw.lower()).strip("_") or "option"
            return {"id": slug if not slug[0].isdigit() else f"o_{slug}", "label": raw}
        if isinstance(raw, dict) and "label" not in raw and "id" in raw:
            return {**raw, "label": str(raw["id"]).replace("_", " ").capitalize()}
        return raw


class UrlButtonSpec(_Model):
    """A button that opens a link; `url` is a template."""

    label: str
    url: str


class GotoAction(_Model):
    goto: Ident


class EndAction(_Model):
    end: Outcome


# What to do after an objection/FAQ answer, on repeat, or when a lead turns hot.
Action = Literal["resume", "handoff"] | GotoAction | EndAction


class QuestionSpec(_Model):
    """The `ask:` of a state."""

    type: QuestionType
    text: str
    save_as: Ident | None = None
    options: list[OptionSpec] = Field(default=[], validate_default=True)  # validated even when left out
    min: float | None = None
    max: float | None = None
    currency: str | None = Field(default=None, pattern=CURRENCY_CODE)
    reprompt: str | None = None
    max_attempts: int | None = Field(default=None, ge=1, le=10)
    fallback: Ident | None = None  # a state id, or the word `skip`

    @field_validator("options")
    @classmethod
    def _options_fit_type(cls, options: list[OptionSpec], info: ValidationInfo) -> list[OptionSpec]:
        kind = info.data.get("type")
        if kind is None:  # the type itself is wrong, and reported
            return options
        has_options = kind in (QuestionType.CHOICE, QuestionType.MULTI_CHOICE)
        if has_options and len(options) < 2:
            raise ValueError(f"a {kind.value} question needs at least two options")
        if not has_options and options:
            raise ValueError(f"options only apply to choice and multi_choice questions, not {kind.value}")
        return options


class SilenceRule(_Model):
    """If the prospect stays silent for `after`, say something and/or go somewhere."""

    after: Duration
    say: str | None = None
    goto: Ident | None = None

    @model_validator(mode="after")
    def _does_something(self) -> SilenceRule:
        if self.say is None and self.goto is None:
            raise ValueError("an on_silence rule needs `say`, `goto` or both")
        return self


class Branch(_Model):
    """One arm of `next:`. Without `if` it always matches (use it last, as the `else`)."""

    if_: str | None = Field(default=None, alias="if")
    goto: Ident


class HandoffSpec(_Model):
    reason: str = "Lead asked to talk to sales"
    team: str = "sales"


class StateSpec(_Model):
    """One step of the conversation. Runs, in order: set, say, handoff, then ask, end or next."""

    set: dict[Ident, str] = {}
    say: TextList = []
    buttons: list[UrlButtonSpec] = []
    handoff: HandoffSpec | None = None
    ask: QuestionSpec | None = None
    on_silence: list[SilenceRule] = []
    end: Outcome | None = None
    next: Ident | list[Branch] | None = None

    @field_validator("handoff", mode="before")
    @classmethod
    def _handoff_true(cls, raw: object) -> object:
        return {} if raw is True else raw

    @field_validator("on_silence", mode="before")
    @classmethod
    def _silence_list(cls, raw: object) -> object:
        return [raw] if isinstance(raw, dict) else raw

    @model_validator(mode="after")
    def _consistent(self) -> StateSpec:
        if self.end is not None and self.ask is not None:
            raise ValueError("a state cannot both `ask` and `end`; ask first, then go to an end state")
        if self.end is not None and self.next is not None:
            raise ValueError("an end state has no `next`")
        return self


class ObjectionSpec(_Model):
    """A named objection: how to recognise it, what to answer, what to do next."""

    examples: list[str] = Field(min_length=1)
    keywords: list[str] = []
    answer: TextList = Field(min_length=1)
    then: Action = "resume"
    max: int = Field(default=2, ge=1)
    on_repeat: Action = "handoff"


class FaqSpec(_Model):
    """A frequently asked question: answered at any point, then the conversation resumes."""

    examples: list[str] = Field(min_length=1)
    keywords: list[str] = []
    answer: TextList = Field(min_length=1)
    then: Action = "resume"


class IntentSpecModel(_Model):
    """A global intent. `examples` extend the built-in phrasings; `say` replaces the default reply."""

    examples: list[str] = []
    say: str | None = None


class IntentsSpec(_Model):
    human: IntentSpecModel = IntentSpecModel()
    restart: IntentSpecModel = IntentSpecModel()
    stop: IntentSpecModel = IntentSpecModel()


class ScoreRuleSpec(_Model):
    id: Ident
    when: str
    points: int
    reason: str


class ScoringSpec(_Model):
    hot: int = 70
    warm: int = 40
    on_hot: Literal["handoff"] | GotoAction | None = None
    rules: list[ScoreRuleSpec] = []


class MessagesSpec(_Model):
    """The bot's fixed replies. Each is a template."""

    too_long: str = "That message is a bit long for me (over {{ limit }} characters). Could you shorten it?"
    empty: str = "I didn't catch that."
    fallback: str = "No problem, let's move on."
    handoff: str = "I'm bringing in someone from our team. They'll reply right here shortly."
    human_joined: str = "{{ agent }} from our team has joined the chat."
    returned: str = "Thanks! I'm back to help."
    ended: str = "Thanks for chatting with us! Type 'restart' if you'd like to start over."
    unsubscribed: str = "You won't receive any more messages from us. Type 'restart' to start over."
    stale_choice: str = "That question has already been answered."


class SettingsSpec(_Model):
    max_attempts: int = Field(default=3, ge=1, le=10)
    max_input_chars: int = Field(default=2000, ge=10, le=100_000)
    currency: str = Field(default="USD", pattern=CURRENCY_CODE)
    phone_region: str = Field(default="US", pattern=COUNTRY_CODE)
    match_threshold: float = Field(default=0.72, gt=0, le=1)
    messages: MessagesSpec = MessagesSpec()


Scalar = str | int | float | bool | None


class FlowSpec(_Model):
    """A whole flow file."""

    id: Ident
    title: str = ""
    description: str = ""
    start: Ident
    settings: SettingsSpec = SettingsSpec()
    values: dict[Ident, Scalar] = {}
    scoring: ScoringSpec = ScoringSpec()
    objections: dict[Ident, ObjectionSpec] = {}
    faqs: dict[Ident, FaqSpec] = {}
    intents: IntentsSpec = IntentsSpec()
    states: dict[Ident, StateSpec] = Field(min_length=1)
