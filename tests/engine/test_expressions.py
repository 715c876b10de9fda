"""Conditions and templates: the fast evaluator agrees with Jinja's sandbox, and bad input never raises."""

from __future__ import annotations

from typing import Any

import pytest

from bot.engine.expressions import ExpressionError, compile_expression, compile_template, make_environment

ENV = make_environment()
SCOPES: list[dict[str, Any]] = [
    {"budget": 20000, "authority": "decision_maker", "need": ["churn", "data"], "email": "a@b.c", "size": 5},
    {"budget": None, "authority": None, "need": None, "email": None, "size": None},
    {"budget": 500.5, "authority": "researcher", "need": [], "email": "", "size": 0},
]
EXPRESSIONS = [
    "budget >= 10000 and authority == 'decision_maker'",
    "budget >= 10000 or size < 5",
    "not email",
    "email and size",
    "need is not none and need | length >= 2",
    "'churn' in need",
    "authority in ['decision_maker', 'influencer']",
    "authority not in ['researcher']",
    "1 < size <= 10",
    "size + 20",
    "budget / 12 > 100",
    "size % 2 == 1",
    "authority | upper == 'RESEARCHER'",
    "email is none",
    "-size < 0",
    "budget | round > 1",
    "email ~ '!'",
]


def jinja(source: str, scope: dict[str, Any]) -> Any:
    try:
        result = ENV.compile_expression(source, undefined_to_none=False)(**scope)
        bool(result)
    except Exception:
        return None
    return result


@pytest.mark.parametrize("source", EXPRESSIONS)
@pytest.mark.parametrize("scope", SCOPES, ids=["full", "empty", "odd"])
def test_fast_path_agrees_with_jinja(source: str, scope: dict[str, Any]) -> None:
    assert compile_expression(ENV, source).value(scope) == jinja(source, scope)


@pytest.mark.parametrize(("source", "message"), [
    ("budget >=", "end of expression"),
    ("{{ budget }} > 5", "conditions are not templates"),
    ("budget | shout", "unknown filter 'shout'"),
    ("budget is shouting", "unknown test 'shouting'"),
])
def test_bad_conditions_are_rejected_at_load(source: str, message: str) -> None:
    with pytest.raises(ExpressionError, match=message):
        compile_expression(ENV, source)


def test_sandbox_blocks_attribute_escapes() -> None:
    escape = compile_expression(ENV, "email.__class__.__mro__")
    assert escape.value({"email": "x"}) is None
    assert compile_template(ENV, "{{ email.__class__ }}").render({"email": "x"}) == ""


@pytest.mark.parametrize(("source", "scope", "expected"), [
    ("Hi {{ name }}!", {"name": "Ana"}, "Hi Ana!"),
    ("Hi {{ name }}!", {"name": None}, "Hi !"),
    ("{{ name | upper }}", {"name": None}, ""),
    ("{{ need | join(', ') }}", {"need": None}, ""),
    ("{{ budget | money }} {{ budget_currency }}", {"budget": 20000, "budget_currency": "EUR"}, "20,000 EUR"),
    ("Thanks{{ ', ' ~ name if name }}!", {"name": ""}, "Thanks!"),
    ("<b>{{ name }}</b>", {"name": "<script>"}, "<b><script></b>"),
])
def test_templates_render_plain_text_and_blank_missing_values(source: str, scope: dict[str, Any],
                                                              expected: str) -> None:
    assert compile_template(ENV, source).render(scope) == expected


TEMPLATE_SCOPES: list[dict[str, Any]] = [
    {"name": "Ana María", "email": "ana+x@b.co", "budget": 20000, "budget_currency": "EUR", "budget_period": "month",
     "need": ["churn", "data"], "company": "Smith & Sons <b>", "size": 12},
    {"name": None, "email": None, "budget": None, "budget_currency": None, "budget_period": None, "need": None,
     "company": None, "size": None},
    {"name": "  o'neil  ", "email": "", "budget": 1234.5, "budget_currency": "usd", "budget_period": "one_off",
     "need": [], "company": "ÄÖÜ?&=/", "size": 0},
    {"name": True, "email": "x y", "budget": -5, "budget_currency": 3, "budget_period": ["a"], "need": "abc",
     "company": 1e21, "size": 2.5},
]
FAST_TEMPLATES = [
    "Hi {{ name }}, welcome from {{ company }}!",
    "{{name}}{{ size }}",
    "Budget of {{ budget | money }} {{ budget_currency }} per {{ budget_period }}",
    "Several use cases: {{ need | join(', ') }}",
    "https://cal.example.com/demo?name={{ name | urlencode }}&email={{ email | urlencode }}",
    "{{ name | upper }} {{ name | lower | title }} {{ name | trim | capitalize }}",
    "{{ need | length }} {{ need | count }} {{ size | string }}",
    "{{ budget | round }}",
    "{{ name | default('there') }} {{ company | replace('&', 'and') }}",
    "{{ size }} items\nfor {{ name | lower }}\n",
    "Hi {{ name }},\nsee you",
]


def rendered_by_jinja(source: str, scope: dict[str, Any]) -> str:
    """What Jinja's sandbox renders, with values not collected yet blanked, as the engine renders them."""
    try:
        return str(ENV.from_string(source).render({k: "" if v is None else v for k, v in scope.items()}))
    except Exception:
        return ""


@pytest.mark.parametrize("source", FAST_TEMPLATES)
@pytest.mark.parametrize("scope", TEMPLATE_SCOPES, ids=["full", "empty", "odd", "mistyped"])
def test_fast_templates_agree_with_jinja(source: str, scope: dict[str, Any]) -> None:
    template = compile_template(ENV, source)
    assert template.fast
    assert template.render(scope) == rendered_by_jinja(source, scope)


@pytest.mark.parametrize("source", [
    "Thanks{{ ', ' ~ name if name }}!", "{% if name %}Hi{% endif %}", "{{ name | truncate(3) }}", "{{ need[0] }}",
    "{{ name | replace(company, 'x') }}",
])
def test_other_templates_are_rendered_by_jinja(source: str) -> None:
    template = compile_template(ENV, source)
    assert not template.fast
    for scope in TEMPLATE_SCOPES:
        assert template.render(scope) == rendered_by_jinja(source, scope)
