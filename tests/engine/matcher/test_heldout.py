"""Held-out evaluation of the intent matcher: micro precision and recall on phrasings it never saw."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pytest

from bot.engine.matcher import IntentMatcher
from bot.engine.normalize import normalize
from tests.engine.matcher.fixture_files import default_specs, heldout_items

NONE = "none"
MIN_PRECISION = 0.90
MIN_RECALL = 0.80


@dataclass(frozen=True, kw_only=True)
class Scores:
    """Counts of one evaluation: true positives, false positives and false negatives, overall and per id."""

    tp: Counter[str]
    fp: Counter[str]
    fn: Counter[str]
    misses: tuple[tuple[str, str, str], ...]  # (text, expected, predicted)
    none_items: int  # items labelled none

    @property
    def precision(self) -> float:
        found = sum(self.tp.values()) + sum(self.fp.values())
        return sum(self.tp.values()) / found if found else 1.0

    @property
    def recall(self) -> float:
        expected = sum(self.tp.values()) + sum(self.fn.values())
        return sum(self.tp.values()) / expected if expected else 1.0


def evaluate(matcher: IntentMatcher, items: list[tuple[str, str]]) -> Scores:
    """Micro-averaged over non-none labels: a wrong id is a false positive and a false negative."""
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    misses: list[tuple[str, str, str]] = []
    for text, expected in items:
        found = matcher.match(text)
        predicted = found.id if found else NONE
        if predicted == expected:
            tp[expected] += expected != NONE
            continue
        misses.append((text, expected, predicted))
        if predicted != NONE:
            fp[predicted] += 1
        if expected != NONE:
            fn[expected] += 1
    none_items = sum(expected == NONE for _, expected in items)
    return Scores(tp=tp, fp=fp, fn=fn, misses=tuple(misses), none_items=none_items)


def report(scores: Scores, ids: list[str]) -> str:
    lines = [f"{'id':16} {'tp':>4} {'fp':>4} {'fn':>4} {'prec':>6} {'recall':>6}"]
    for intent in ids:
        tp, fp, fn = scores.tp[intent], scores.fp[intent], scores.fn[intent]
        precision = f"{tp / (tp + fp):.2f}" if tp + fp else "-"
        recall = f"{tp / (tp + fn):.2f}" if tp + fn else "-"
        lines.append(f"{intent:16} {tp:>4} {fp:>4} {fn:>4} {precision:>6} {recall:>6}")
    total = (sum(scores.tp.values()), sum(scores.fp.values()), sum(scores.fn.values()))
    lines.append(
        f"{'TOTAL':16} {total[0]:>4} {total[1]:>4} {total[2]:>4} {scores.precision:>6.3f} {scores.recall:>6.3f}"
    )
    fired = sum(expected == NONE for _, expected, _ in scores.misses)
    lines.append(f"none items: {scores.none_items}, of which {fired} matched an intent (counted as fp above)")
    lines += [f"  miss: {text!r} expected {expected}, got {predicted}" for text, expected, predicted in scores.misses]
    return "\n".join(lines)


def test_heldout_set_is_big_enough_and_unseen() -> None:
    items = heldout_items()
    examples = {normalize(text) for spec in default_specs() for text in spec.examples}
    known_ids = {spec.id for spec in default_specs()} | {NONE}
    assert len(items) >= 150
    assert sum(expected == NONE for _, expected in items) >= 50
    assert {expected for _, expected in items} <= known_ids
    assert [text for text, _ in items if normalize(text) in examples] == []


def test_heldout_precision_and_recall(capsys: pytest.CaptureFixture[str]) -> None:
    specs = default_specs()
    scores = evaluate(IntentMatcher(specs), heldout_items())
    with capsys.disabled():
        print("\nheld-out evaluation of the intent matcher\n" + report(scores, [spec.id for spec in specs]))
    assert scores.precision >= MIN_PRECISION, f"precision {scores.precision:.3f} < {MIN_PRECISION}"
    assert scores.recall >= MIN_RECALL, f"recall {scores.recall:.3f} < {MIN_RECALL}"
