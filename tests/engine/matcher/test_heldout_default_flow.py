"""The held-out phrasings, measured on the matcher the shipped default flow actually compiles."""

from __future__ import annotations

import pytest

from bot.engine.compiled import CompiledFlow
from tests.engine.matcher.fixture_files import heldout_items
from tests.engine.matcher.test_heldout import evaluate, report


def test_default_flow_recognises_unseen_phrasings(default_flow: CompiledFlow, capsys: pytest.CaptureFixture[str]
                                                  ) -> None:
    items = heldout_items()
    scores = evaluate(default_flow.matcher, items)
    with capsys.disabled():
        print("\nheld-out objection/FAQ/intent recognition, default flow:")
        print(report(scores, sorted({label for _, label in items if label != "none"})))
    assert scores.precision >= 0.90
    assert scores.recall >= 0.80
