"""The widget's files themselves: small enough to embed anywhere, and free of the APIs that turn data into code."""

from __future__ import annotations

import gzip
import re
from html.parser import HTMLParser

import pytest

from tests.e2e.conftest import STATIC

GZIP_BUDGET = 12 * 1024
WIDGET = (STATIC / "widget.js").read_text(encoding="utf-8")


def test_widget_is_under_the_gzip_budget() -> None:
    size = len(gzip.compress(WIDGET.encode(), compresslevel=9))
    assert size < GZIP_BUDGET, f"widget.js is {size} bytes gzipped; the budget is {GZIP_BUDGET}"


@pytest.mark.parametrize("forbidden", ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(",
                                       "new Function", "setAttribute(\"on", "import(", "@import"])
def test_widget_never_uses(forbidden: str) -> None:
    assert forbidden not in WIDGET


def test_widget_loads_nothing_from_elsewhere() -> None:
    # The SVG namespace is a name, not a download; any other URL in a string would be a request off the API origin.
    code = re.sub(r"/\*.*?\*/", "", WIDGET, flags=re.DOTALL)
    assert re.findall(r"[\"'`]https?://[^\"'`]*", code) == ['"http://www.w3.org/2000/svg']


def test_widget_defines_one_global() -> None:
    assert re.findall(r"window\.(\w+)\s*=", WIDGET) == ["SalesbotWidget"]


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.inline_script = False
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_script = True


def test_demo_page_fits_its_content_security_policy() -> None:
    page = _Tags()
    page.feed((STATIC / "index.html").read_text(encoding="utf-8"))
    scripts = [attrs for tag, attrs in page.tags if tag == "script"]
    assert not page.inline_script
    assert all(attrs.get("src", "").startswith("/") for attrs in scripts)
    assert {"src": "/widget.js", "data-flow": "default", "defer": None}.items() <= scripts[-1].items()
    for tag, attrs in page.tags:
        assert not [name for name in attrs if name.startswith("on")], f"inline handler on <{tag}>"
        for name in ("src", "href"):
            value = attrs.get(name) or ""
            assert not value.startswith(("http:", "https:", "//")), f"<{tag} {name}={value!r}> loads from elsewhere"
