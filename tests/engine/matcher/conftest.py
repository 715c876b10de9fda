"""Fixtures for the intent matcher tests: the default intents and a matcher built from them."""

from __future__ import annotations

import pytest

from bot.engine.matcher import IntentMatcher, IntentSpec
from tests.engine.matcher.fixture_files import default_specs


@pytest.fixture(scope="session")
def specs() -> list[IntentSpec]:
    return default_specs()


@pytest.fixture(scope="session")
def matcher(specs: list[IntentSpec]) -> IntentMatcher:
    return IntentMatcher(specs)
