"""Generates large, valid flows for benchmarks and tests."""

from __future__ import annotations


def generated_flow(states: int = 200) -> str:
    """A flow of `states` states: a chain of mixed questions with branches, objections and scoring."""
    lines = [
        "id: generated", "title: Generated benchmark flow", "start: s0",
        "scoring:", "  hot: 60", "  warm: 30", "  rules:",
    ]
    kinds = ["number", "yes_no", "choice", "money", "text", "date"]
    questions = list(range(states - 1))
    for i in questions[:40]:
        kind = kinds[i % len(kinds)]
        cond = {"number": f"v{i} >= 10", "yes_no": f"v{i}", "choice": f"v{i} == 'a'",
                "money": f"v{i}_annual >= 1000", "text": f"v{i} is not none", "date": f"v{i} == 'asap'"}[kind]
        lines += [f"    - id: r{i}", f"      when: \"{cond}\"", "      points: 5", f"      reason: \"rule {i}\""]
    lines += ["objections:"]
    for name in ("too_expensive", "not_now", "has_vendor"):
        lines += [f"  {name}:", "    examples:", f"      - \"{name.replace('_', ' ')}\"",
                  f"    answer: \"Answer to {name}\""]
    lines += ["states:"]
    for i in questions:
        kind = kinds[i % len(kinds)]
        lines += [f"  s{i}:", "    ask:", f"      type: {kind}", f"      text: \"Question {i} for {{{{ v0 }}}}?\"",
                  f"      save_as: v{i}"]
        if kind == "choice":
            lines += ["      options: [a, b, c]"]
        nxt = f"s{i + 1}"
        if kind == "number" and i + 2 < states - 1:
            lines += ["    next:", f"      - if: \"v{i} > 1000\"", f"        goto: s{i + 2}", f"      - goto: {nxt}"]
        else:
            lines += [f"    next: {nxt}"]
    last = states - 1
    lines += [f"  s{last}:", "    say: \"Thanks {{ v0 }}, score {{ score }}.\"", "    end: qualified"]
    return "\n".join(lines) + "\n"
