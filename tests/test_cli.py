"""The `salesbot` command end to end, through a subprocess, on a real SQLite file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FLOWS


def salesbot(*args: str, stdin: str = "", tmp_path: Path, env: dict[str, str] | None = None
             ) -> subprocess.CompletedProcess[str]:
    environ = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "FLOWS_DIR", "DEFAULT_FLOW")},
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "FLOWS_DIR": str(FLOWS),
        "TIMER_INTERVAL_SECONDS": "0.2",
        **(env or {}),
    }
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], input=stdin, capture_output=True, text=True,
                          cwd=tmp_path, env=environ, timeout=120, check=False)


HOT_LEAD = """Dana Scully
Acme Corp
1
I make the decision
about 300 people
churn and reporting
it's way too expensive
next quarter
$50k a year
dana@acme.com
skip
"""


def test_chat_json_plays_the_default_flow_to_a_handoff(tmp_path: Path) -> None:
    done = salesbot("chat", "--json", stdin=HOT_LEAD, tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    messages, summary = lines[:-1], lines[-1]
    assert all(set(m) >= {"type", "text", "options", "state", "cause"} for m in messages)
    assert messages[0]["cause"] == {"kind": "say", "id": "welcome"}
    assert {"kind": "objection", "id": "too_expensive"} in [m["cause"] for m in messages]
    assert summary["type"] == "summary"
    assert summary["status"] == "ended" and summary["outcome"] == "handed_off"
    assert summary["tier"] == "hot" and summary["score"] >= 70
    assert summary["values"]["company_size"] == 300
    assert summary["objections"] == {"too_expensive": 1}
    assert {r["rule"] for r in summary["reasons"]} >= {"decision_maker", "big_budget"}
    assert (tmp_path / "cli.db").exists()


def test_chat_survives_hostile_input(tmp_path: Path) -> None:
    hostile = "\n".join(["", "x" * 100_000, "\x00\x01\x1b[31m", "<img src=x onerror=alert(1)>",
                         "'; DROP TABLE messages; --", "🙂‍↔️🇺🇦", "שלום עולם", "\u202egnp.exe"]) + "\n"
    done = salesbot("chat", "--json", stdin=hostile, tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert lines[-1]["type"] == "summary"
    too_long = [m for m in lines if m.get("cause", {}).get("id") == "too_long"]
    assert len(too_long) == 1


def test_validate_reports_errors_with_positions(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: b\nstart: a\nstates:\n  a:\n    say: hi\n    next: nowhere\n", encoding="utf-8")
    done = salesbot("flows", "validate", str(broken), tmp_path=tmp_path)
    assert done.returncode == 1
    assert f"{broken}:6:11: error: 'nowhere' names no state" in done.stderr
    assert "Traceback" not in done.stderr
    ok = salesbot("flows", "validate", str(FLOWS), tmp_path=tmp_path)
    assert ok.returncode == 0, ok.stderr


@pytest.mark.parametrize(("text", "kind", "ident"), [
    ("it's too expensive", "objection", "too_expensive"),
    ("how much does it cost?", "faq", "pricing"),
    ("I want to talk to a person", "intent", "human"),
    ("Dana Scully", "answer", "ask_name"),
])
def test_match_explains_how_text_is_understood(tmp_path: Path, text: str, kind: str, ident: str) -> None:
    done = salesbot("flows", "match", "--text", text, tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["match"]["kind"] == kind and result["match"]["id"] == ident


def test_match_reads_stdin_at_a_given_state(tmp_path: Path) -> None:
    done = salesbot("flows", "match", "default", "--state", "ask_size", stdin="about 50 people\nnope\n",
                    tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    first, second = (json.loads(line) for line in done.stdout.splitlines())
    assert first["answer"]["value"] == 50 and first["match"]["kind"] == "answer"
    assert second["answer"]["ok"] is False


def test_flows_test_runs_the_shipped_conversation_tests(tmp_path: Path) -> None:
    done = salesbot("flows", "test", str(FLOWS / "tests"), tmp_path=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert " 0 failed" in done.stdout


def test_graph_prints_mermaid_and_writes_svg(tmp_path: Path) -> None:
    mermaid = salesbot("flows", "graph", str(FLOWS / "default.yaml"), tmp_path=tmp_path)
    assert mermaid.returncode == 0, mermaid.stderr
    assert mermaid.stdout.startswith("flowchart")
    out = tmp_path / "flow.svg"
    svg = salesbot("flows", "graph", str(FLOWS / "default.yaml"), "--format", "svg", "-o", str(out),
                   tmp_path=tmp_path)
    assert svg.returncode == 0, svg.stderr
    assert out.read_text(encoding="utf-8").lstrip().startswith(("<svg", "<?xml"))


@pytest.mark.parametrize(("env", "key"), [
    ({"PORT": "eighty"}, "PORT"),
    ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
    ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
    ({"DEFAULT_FLOW": "nope"}, "DEFAULT_FLOW"),
])
def test_bad_setting_is_one_line_naming_the_key(tmp_path: Path, env: dict[str, str], key: str) -> None:
    done = salesbot("chat", "--json", tmp_path=tmp_path, env=env)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and key in lines[0], done.stderr
    assert "Traceback" not in done.stderr


def test_db_upgrade_is_idempotent(tmp_path: Path) -> None:
    for _ in range(2):
        done = salesbot("db", "upgrade", tmp_path=tmp_path)
        assert done.returncode == 0, done.stderr
    assert (tmp_path / "cli.db").exists()


def test_schema_is_json(tmp_path: Path) -> None:
    done = salesbot("flows", "schema", tmp_path=tmp_path)
    assert json.loads(done.stdout)["title"] == "salesbot flow"

