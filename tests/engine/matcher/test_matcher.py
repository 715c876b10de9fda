"""Table-driven tests of the intent matcher and the text normalisation it stands on."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.engine.matcher import MAX_CHARS, IntentMatcher, IntentSpec, Match, light_stem
from bot.engine.normalize import clauses, normalize, tokens
from bot.engine.types import MatchKind

# ---------------------------------------------------------------- recognition

POSITIVES = [
    ("it's too costly", "too_expensive"),
    ("your price is way too high", "too_expensive"),
    ("we could never afford that", "too_expensive"),
    ("honestly, it's a bit steep", "too_expensive"),
    ("we don't have any budget", "no_budget"),
    ("no budget at the moment", "no_budget"),
    ("we're out of budget", "no_budget"),
    ("not at the moment", "not_now"),
    ("we're slammed, try again later", "not_now"),
    ("maybe next year", "not_now"),
    ("email me", "send_info"),
    ("could you send over some documentation", "send_info"),
    ("we use a competitor already", "has_vendor"),
    ("we went with a competitor", "has_vendor"),
    ("my boss has to approve", "need_approval"),
    ("I need to loop in my boss", "need_approval"),
    ("i'm not the decision maker here", "need_approval"),
    ("is my data safe with you", "security"),
    ("are you gdpr compliant", "security"),
    ("privacy concerns", "security"),
    ("we're not interested", "not_interested"),
    ("not relevant for us", "not_interested"),
    ("can we cancel at any time", "lock_in"),
    ("no long term contracts please", "lock_in"),
    ("do you integrate with salesforce?", "integration"),
    ("can it push leads into hubspot", "integration"),
    ("how much do you charge", "pricing"),
    ("what's your pricing", "pricing"),
    ("free trial?", "free_trial"),
    ("can we pilot it", "free_trial"),
    ("what do you sell", "what_is_it"),
    ("what does your company do", "what_is_it"),
    ("where are you hosted", "data_location"),
    ("is the data in the eu", "data_location"),
    ("how long does onboarding take", "onboarding"),
    ("how much effort is the setup", "onboarding"),
    ("speak to a human", "human"),
    ("am I talking to a bot", "human"),
    ("restart please", "restart"),
    ("restart the chat", "restart"),
    ("don't text me again", "stop"),
    ("opt-out", "stop"),
]


@pytest.mark.parametrize(("text", "expected"), POSITIVES)
def test_recognises_unseen_phrasings(matcher: IntentMatcher, text: str, expected: str) -> None:
    found = matcher.match(text)
    assert found is not None, f"{text!r} matched nothing; candidates: {matcher.rank(text)}"
    assert found.id == expected, f"{text!r} -> {found}"


NOT_OBJECTIONS = [
    # negated look-alikes: the prospect says the opposite of the objection
    "our budget is approved",
    "we have budget",
    "we do have budget for this",
    "price isn't an issue",
    "price is not a problem",
    "money is no object",
    "cost is fine",
    "price doesn't matter",
    "the price is right",
    "now is a good time",
    "good timing actually",
    "I'm interested",
    "very interested!",
    "we don't have a vendor yet",
    "we have no current provider",
    "security is fine",
    "security is solid on our side",
    "i'm the decision maker",
    "no approval needed",
    "we don't need integrations",
    # plain answers to qualification questions
    "50 people",
    "$20k",
    "next quarter",
    "yes",
    "no",
    "nope",
    "John Smith",
    "acme.com",
    "the CTO",
    "our ceo",
    "hubspot and slack",
    "we're a saas company",
    "great, thanks",
    "thanks so much!",
    "pricing looks reasonable",
    "why do you ask?",
    "can I ask you something?",
    "",
    "   ",
    "🙂",
]


@pytest.mark.parametrize("text", NOT_OBJECTIONS)
def test_answers_and_negations_match_nothing(matcher: IntentMatcher, text: str) -> None:
    assert matcher.match(text) is None, matcher.rank(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("to expensiv", "too_expensive"),
        ("its way to pricy", "too_expensive"),
        ("does it intergrate with salesforce", "integration"),
        ("is it secuirty compliant", "security"),
        ("unsubscibe", "stop"),
        ("how long does onbaording take", "onboarding"),
        ("dont have the budjet", "no_budget"),
        ("NOT INTERESTED!!!", "not_interested"),
        ("Where’s the data hosted?", "data_location"),
    ],
)
def test_tolerates_typos_case_and_punctuation(matcher: IntentMatcher, text: str, expected: str) -> None:
    found = matcher.match(text)
    assert found is not None and found.id == expected, matcher.rank(text)


def test_every_default_example_matches_its_own_intent(matcher: IntentMatcher, specs: list[IntentSpec]) -> None:
    wrong = [
        (text, spec.id, matcher.match(text))
        for spec in specs
        for text in spec.examples
        if (found := matcher.match(text)) is None or (found.id, found.confidence) != (spec.id, 1.0)
    ]
    assert wrong == []


def test_an_example_verbatim_matches_with_full_confidence(matcher: IntentMatcher) -> None:
    assert matcher.match("We already have a vendor for this!") == Match(
        kind=MatchKind.OBJECTION, id="has_vendor", confidence=1.0, example="we already have a vendor for this"
    )


def test_match_reports_kind_and_the_example_that_explains_it(matcher: IntentMatcher, specs: list[IntentSpec]) -> None:
    found = matcher.match("how much is the pricing per seat?")
    assert found is not None
    assert (found.kind, found.id) == (MatchKind.FAQ, "pricing")
    assert found.example in next(spec.examples for spec in specs if spec.id == "pricing")


def test_keywords_match_like_examples_and_are_reported() -> None:
    spec = IntentSpec(kind=MatchKind.FAQ, id="refunds", examples=("can I get my money back",), keywords=("refund",))
    found = IntentMatcher([spec]).match("refunds?")
    assert found == Match(kind=MatchKind.FAQ, id="refunds", confidence=1.0, example="refund")


def test_custom_intents_generalise_through_the_lexicon() -> None:
    specs = [
        IntentSpec(kind=MatchKind.FAQ, id="demo_length", examples=("how long is the demo",)),
        IntentSpec(kind=MatchKind.OBJECTION, id="too_expensive", examples=("too expensive",)),
    ]
    found = IntentMatcher(specs).match("way too pricey")
    assert found is not None and found.id == "too_expensive"


# ---------------------------------------------------------------- threshold and ranking


def test_threshold_decides_match_but_not_rank(specs: list[IntentSpec]) -> None:
    text = "our budget"  # half of a no_budget example ("budgets got cut")
    best = IntentMatcher(specs).rank(text, limit=1)[0]
    assert best.id == "no_budget" and 0.0 < best.confidence < 1.0
    assert IntentMatcher(specs, threshold=best.confidence).match(text) == best
    assert IntentMatcher(specs, threshold=min(1.0, best.confidence + 0.01)).match(text) is None
    assert IntentMatcher(specs, threshold=1.0).rank(text, limit=1) == [best]


def test_threshold_one_accepts_only_complete_matches(specs: list[IntentSpec]) -> None:
    strict = IntentMatcher(specs, threshold=1.0)
    assert strict.match("too pricey for a startup like us") is None
    for text in ("That's too expensive.", "way too pricey"):  # verbatim, or the same concepts
        found = strict.match(text)
        assert found is not None and (found.id, found.confidence) == ("too_expensive", 1.0)


@pytest.mark.parametrize("threshold", [-0.1, 1.5])
def test_threshold_outside_zero_one_is_rejected(specs: list[IntentSpec], threshold: float) -> None:
    with pytest.raises(ValueError, match=r"threshold must be between 0 and 1, got"):
        IntentMatcher(specs, threshold=threshold)


def test_rank_orders_candidates_best_first_and_respects_limit(matcher: IntentMatcher) -> None:
    text = "what does it cost and is there a free trial"
    ranked = matcher.rank(text, limit=5)
    assert 2 <= len(ranked) <= 5
    assert [m.confidence for m in ranked] == sorted((m.confidence for m in ranked), reverse=True)
    assert {m.id for m in ranked[:2]} == {"pricing", "free_trial"}
    assert len({m.id for m in ranked}) == len(ranked)
    assert matcher.rank(text, limit=1) == ranked[:1]
    assert matcher.rank(text, limit=0) == []


def test_rank_includes_candidates_below_threshold(matcher: IntentMatcher) -> None:
    assert matcher.match("budget") is None
    assert [m.id for m in matcher.rank("budget")][:1] == ["no_budget"]


def test_rank_of_unrelated_text_is_empty(matcher: IntentMatcher) -> None:
    assert matcher.rank("John Smith") == []


def test_ties_go_to_the_intent_declared_first() -> None:
    specs = [
        IntentSpec(kind=MatchKind.FAQ, id="first", examples=("pricing",)),
        IntentSpec(kind=MatchKind.FAQ, id="second", examples=("pricing",)),
    ]
    assert [m.id for m in IntentMatcher(specs).rank("pricing")] == ["first", "second"]


@pytest.mark.parametrize(
    ("specs", "message"),
    [
        (
            [
                IntentSpec(kind=MatchKind.FAQ, id="x", examples=("a",)),
                IntentSpec(kind=MatchKind.FAQ, id="x", examples=("b",)),
            ],
            r"faq 'x' is declared twice",
        ),
        (
            [IntentSpec(kind=MatchKind.INTENT, id="human", examples=("  ",))],
            r"intent 'human' has no examples or keywords",
        ),
    ],
)
def test_invalid_specs_are_rejected_at_construction(specs: list[IntentSpec], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        IntentMatcher(specs)


def test_same_id_under_different_kinds_is_allowed() -> None:
    specs = [
        IntentSpec(kind=MatchKind.FAQ, id="pricing", examples=("how much is it",)),
        IntentSpec(kind=MatchKind.OBJECTION, id="pricing", examples=("too expensive",)),
    ]
    found = IntentMatcher(specs).match("too expensive")
    assert found is not None and found.kind is MatchKind.OBJECTION


# ---------------------------------------------------------------- long and hostile input


def test_huge_input_is_capped_and_fast(matcher: IntentMatcher) -> None:
    text = "we already have a vendor for this. " + "blah " * 20_000  # ~100 KB
    started = time.perf_counter()
    found = matcher.match(text)
    elapsed = time.perf_counter() - started
    assert found is not None and found.id == "has_vendor"
    assert elapsed < 0.5  # generous: only the first MAX_CHARS characters are analysed
    assert matcher.match("blah " * (MAX_CHARS // 5) + "too expensive") is None


@settings(max_examples=300, deadline=None)
@given(text=st.text())
def test_any_text_gives_none_or_a_match_within_bounds(matcher: IntentMatcher, text: str) -> None:
    found = matcher.match(text)
    assert found is None or (0.0 <= found.confidence <= 1.0 and found.id)
    assert all(0.0 <= m.confidence <= 1.0 for m in matcher.rank(text, limit=10))


# ---------------------------------------------------------------- normalisation


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Price isn't an issue", "price is not an issue"),
        ("We DON'T need it", "we do not need it"),
        ("can't, won't, shan't", "can not, will not, shall not"),
        ("cannot", "can not"),
        (
            "we're ready, I'm in, they've left, we'll see, I'd go",
            "we are ready, i am in, they have left, we will see, i would go",
        ),
        ("it's fine, what's up, let's go", "it is fine, what is up, let us go"),
        ("the company's budget", "the company budget"),
        ("dont cant wont isnt im", "do not can not will not is not i am"),
        ("We’re “sure”", "we are sure"),
        ("Café Crème – naïve résumé", "cafe creme naive resume"),
        ("ﬁne ＦＵＬＬ ① ²", "fine full 1 2"),
        ("Straße", "strasse"),
        ("tab\there\nnew\r\nline", "tab here new line"),
        ("zero\u200bwidth and\x00null\x07bell", "zerowidth andnullbell"),
        ("great 👍 thanks 🙏", "great thanks"),
        ("  lots   of    space  ", "lots of space"),
        ("Really?!?!", "really?"),
        ("wait... what!!", "wait. what!"),
        ("...leading marks", "leading marks"),
        ("$20k or €5,000 (50%), 3,4", "$20k or €5,000 50%, 3,4"),
        ("yes,no", "yes, no"),
        ("mail jo@acme.com or acme.com.", "mail jo@acme.com or acme.com."),
        ("+1 (415) 555-0100", "+1 415 555 0100"),
        ("e-mail / lock-in & snake_case", "e mail lock in snake case"),
        ("", ""),
        ("!!!", ""),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_tokens_and_clauses_drop_punctuation() -> None:
    assert tokens("No thanks, we're good!") == ("no", "thanks", "we", "are", "good")
    assert clauses("No thanks, we're good! Bye") == (("no", "thanks"), ("we", "are", "good"), ("bye",))
    assert tokens("🙂 !!") == ()




@settings(max_examples=300, deadline=None)
@given(st.text())
def test_normalize_is_idempotent_and_total(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once
    assert tokens(text) == tokens(once)


def test_normalize_handles_100kb_quickly() -> None:
    text = "Ünïcödé text, with punctuation! " * 3_200
    started = time.perf_counter()
    result = normalize(text)
    assert time.perf_counter() - started < 2.0
    assert result.startswith("unicode text, with punctuation! unicode")


@pytest.mark.parametrize(
    ("word", "stem"),
    [
        ("integrations", "integration"),
        ("integrated", "integrat"),
        ("integrate", "integrat"),
        ("companies", "company"),
        ("setting", "set"),
        ("hosted", "host"),
        ("status", "status"),
        ("news", "news"),
        ("$20k", "$20k"),
    ],
)
def test_light_stem(word: str, stem: str) -> None:
    assert light_stem(word) == stem
