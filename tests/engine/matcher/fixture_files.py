"""Readers for the YAML fixture files of the matcher tests: the default intents and the held-out set."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bot.engine.matcher import IntentSpec
from bot.engine.types import MatchKind

HERE = Path(__file__).resolve().parent


def load_yaml(name: str) -> Any:
    """Parse one of the YAML files next to this module."""
    return yaml.safe_load((HERE / name).read_text(encoding="utf-8"))


def default_specs() -> list[IntentSpec]:
    """The objections, FAQs and global intents of default_intents.yaml."""
    return [
        IntentSpec(kind=MatchKind(item["kind"]), id=item["id"], examples=tuple(item["examples"]))
        for item in load_yaml("default_intents.yaml")["intents"]
    ]


def heldout_items() -> list[tuple[str, str]]:
    """(text, expected id or "none") pairs of heldout.yaml."""
    return [(str(item["text"]), str(item["expect"])) for item in load_yaml("heldout.yaml")["items"]]
