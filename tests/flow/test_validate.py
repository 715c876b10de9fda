"""The flow validator: every broken flow in tests/flow/broken is reported at its exact position, all at once.

Each file in `broken/` starts with the issues it must produce, so the expected positions live next to the YAML:

    # expect: LINE:COL: <substring of the message>
    #   hint: <substring of the hint>          (optional, applies to the expect line above it)
    # xfail: <why the validator gets it wrong>  (optional: the expect lines say what it SHOULD report)

The issues reported must be exactly the expected ones: none missing, none extra.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.engine.compiled import CompiledFlow
from bot.errors import FlowError, FlowIssue
from bot.flow.compiler import compile_flow, compile_text
from bot.flow.loader import load_flow_file

REPO = Path(__file__).resolve().parents[2]
BROKEN = Path(__file__).resolve().parent / "broken"
SHIPPED = sorted((REPO / "flows").glob("*.yaml"))
BROKEN_FILES = sorted(BROKEN.glob("*.yaml"))

_EXPECT = re.compile(r"^# expect: (\d+):(\d+): (.+)$")
_HINT = re.compile(r"^#   hint: (.+)$")
_XFAIL = re.compile(r"^# xfail: (.+)$")
_ERROR_LINE = re.compile(r"^.+:\d+:\d+: error: \S")


@dataclass(frozen=True, kw_only=True)
class Expected:
    """One issue a broken file must produce."""

    line: int
    col: int
    message: str
    hint: str | None = None

    def matches(self, issue: FlowIssue) -> bool:
        return (
            (issue.line, issue.col) == (self.line, self.col)
            and self.message in issue.message
            and (self.hint is None or self.hint in issue.hint)
        )

    def __str__(self) -> str:
        return f"{self.line}:{self.col}: {self.message}" + (f"  [hint: {self.hint}]" if self.hint else "")


@dataclass(frozen=True, kw_only=True)
class BrokenFile:
    path: Path
    expected: tuple[Expected, ...]
    xfail: str | None


def read_broken_file(path: Path) -> BrokenFile:
    """The expectations written in the leading comment lines of a broken flow file."""
    expected: list[Expected] = []
    xfail: str | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        if match := _EXPECT.match(line):
            expected.append(Expected(line=int(match[1]), col=int(match[2]), message=match[3]))
        elif match := _HINT.match(line):
            if not expected:
                raise ValueError(f"{path.name}: a '#   hint:' line must follow an '# expect:' line")
            last = expected.pop()
            expected.append(Expected(line=last.line, col=last.col, message=last.message, hint=match[1]))
        elif match := _XFAIL.match(line):
            xfail = match[1]
    return BrokenFile(path=path, expected=tuple(expected), xfail=xfail)


def _params() -> list[object]:
    params: list[object] = []
    for path in BROKEN_FILES:
        broken = read_broken_file(path)
        marks = [pytest.mark.xfail(strict=True, reason=broken.xfail)] if broken.xfail else []
        params.append(pytest.param(broken, id=path.stem, marks=marks))
    return params


def issues_of(path: Path) -> list[FlowIssue]:
    """Every issue that loading and compiling `path` reports."""
    with pytest.raises(FlowError) as info:
        compile_flow(load_flow_file(path))
    return info.value.issues


def _unmatched(expected: tuple[Expected, ...], issues: list[FlowIssue]) -> tuple[list[Expected], list[FlowIssue]]:
    left = list(issues)
    missing: list[Expected] = []
    for want in expected:
        found = next((issue for issue in left if want.matches(issue)), None)
        if found is None:
            missing.append(want)
        else:
            left.remove(found)
    return missing, left


# ---------------------------------------------------------------- every broken file


def test_the_broken_folder_has_one_file_per_error_kind() -> None:
    assert len(BROKEN_FILES) >= 30
    for path in BROKEN_FILES:
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# expect: "), f"{path.name} must start with an '# expect:' line"
        assert read_broken_file(path).expected


@pytest.mark.parametrize("broken", _params())
def test_broken_flow_reports_exactly_the_expected_issues(broken: BrokenFile) -> None:
    issues = issues_of(broken.path)

    missing, extra = _unmatched(broken.expected, issues)

    report = "\n".join(
        [f"expected, not reported:  {want}" for want in missing]
        + [f"reported, not expected:  {issue.line}:{issue.col}: {issue.message}  [hint: {issue.hint}]"
           for issue in extra]
    )
    assert not missing and not extra, f"{broken.path.name}:\n{report}"
    assert {issue.file for issue in issues} == {str(broken.path)}


# ---------------------------------------------------------------- all at once, and the format


THREE_KINDS = [
    ("unknown state", r"^'nurtur' names no state$"),
    ("unreachable state", r"^state 'orphan' is unreachable"),
    ("undefined variable", r"^undefined variable 'nmae' in template$"),
]


def test_one_file_with_three_different_errors_reports_all_three() -> None:
    issues = issues_of(BROKEN / "three_errors.yaml")

    kinds = [
        next(kind for kind, pattern in THREE_KINDS if re.search(pattern, issue.message)) for issue in issues
    ]
    assert sorted(kinds) == ["undefined variable", "unknown state", "unreachable state"]


def test_schema_errors_are_all_reported_at_once() -> None:
    text = (
        "id: several\n"
        "start: greet\n"
        "states:\n"
        "  greet:\n"
        "    say: Hi\n"
        "    nxt: done\n"
        "    on_silence:\n"
        "      - after: soon\n"
        "        say: Still there?\n"
        "  done:\n"
        "    end: qualifed\n"
    )
    with pytest.raises(FlowError) as info:
        compile_text(text, "several.yaml")

    assert [(i.line, i.col) for i in info.value.issues] == [(6, 5), (8, 16), (11, 10)]
    assert [i.message.split(":")[0] for i in info.value.issues] == [
        "unknown key 'nxt'", "states.greet.on_silence.0.after", "states.done.end",
    ]


def _all_issues() -> list[FlowIssue]:
    issues: list[FlowIssue] = []
    for path in BROKEN_FILES:
        with pytest.raises(FlowError) as info:
            compile_flow(load_flow_file(path))
        issues.extend(info.value.issues)
    return issues


def test_every_issue_formats_as_file_line_col_error_message() -> None:
    issues = _all_issues()

    for issue in issues:
        first, *rest = issue.format().split("\n")
        assert first == f"{issue.file}:{issue.line}:{issue.col}: error: {issue.message}"
        assert _ERROR_LINE.match(first), first
        assert issue.line >= 1
        assert issue.col >= 1
        assert rest == ([f"  hint: {issue.hint}"] if issue.hint else [])
    with_hint = [issue for issue in issues if issue.hint.strip()]
    assert len(with_hint) >= 0.9 * len(issues)


def test_flow_error_text_lists_every_issue_sorted_by_position() -> None:
    with pytest.raises(FlowError) as info:
        compile_flow(load_flow_file(BROKEN / "three_errors.yaml"))

    issues = info.value.issues
    assert [(i.line, i.col) for i in issues] == sorted((i.line, i.col) for i in issues)
    assert str(info.value) == "\n".join(issue.format() for issue in issues)


# ---------------------------------------------------------------- the shipped flows


def test_there_are_shipped_flows() -> None:
    assert SHIPPED


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_shipped_flow_validates_cleanly(path: Path) -> None:
    flow = compile_flow(load_flow_file(path))

    assert isinstance(flow, CompiledFlow)
    assert flow.start in flow.states


def test_a_number_may_be_compared_with_none() -> None:
    text = (
        "id: skipped\n"
        "start: ask_size\n"
        "states:\n"
        "  ask_size:\n"
        "    ask:\n"
        "      type: number\n"
        "      text: How many people work at your company?\n"
        "      save_as: company_size\n"
        "      fallback: skip\n"
        "    next:\n"
        "      - if: company_size == none\n"
        "        goto: done\n"
        "      - goto: done\n"
        "  done:\n"
        "    end: qualified\n"
    )
    assert compile_text(text, "skipped.yaml").start == "ask_size"


# ---------------------------------------------------------------- the CLI


def _validate(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "flows", "validate", *map(str, paths)],
        capture_output=True, text=True, cwd=REPO, timeout=120, check=False,
    )


@pytest.mark.parametrize(
    "paths",
    [
        pytest.param([BROKEN / "yaml_syntax.yaml"], id="yaml"),
        pytest.param([BROKEN / "unknown_key_typo.yaml"], id="schema"),
        pytest.param([BROKEN / "three_errors.yaml"], id="semantic"),
        pytest.param([BROKEN], id="folder"),
    ],
)
def test_cli_reports_broken_flows_and_exits_1(paths: list[Path]) -> None:
    result = _validate(*paths)

    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    errors = [line for line in lines if _ERROR_LINE.match(line)]
    assert errors
    summary = f"{len(errors)} error(s)"
    for line in lines:
        assert _ERROR_LINE.match(line) or line.startswith("  hint: ") or line == summary, line


def test_cli_reports_every_issue_of_a_file() -> None:
    result = _validate(BROKEN / "three_errors.yaml")

    errors = [line for line in result.stderr.splitlines() if _ERROR_LINE.match(line)]
    assert [line.split(": error: ")[0] for line in errors] == [
        f"{BROKEN / 'three_errors.yaml'}:15:15",
        f"{BROKEN / 'three_errors.yaml'}:17:3",
        f"{BROKEN / 'three_errors.yaml'}:21:10",
    ]
    assert result.stderr.splitlines()[-1] == "3 error(s)"


def test_cli_reports_an_unreadable_file_without_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "binary.yaml"
    path.write_bytes(b"\xff\xfe\x00id: \x80\x81\n")

    result = _validate(path)

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert re.match(rf"^{re.escape(str(path))}:1:1: error: cannot read the file", result.stderr)


def test_cli_accepts_a_valid_flow() -> None:
    result = _validate(*SHIPPED)

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.splitlines() == [f"{path}: ok" for path in SHIPPED]
