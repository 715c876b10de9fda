"""The `salesbot` command: composition root for the terminal (chat, flows, db)."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.channels.cli import TerminalPrinter, summary, to_inbound
from bot.engine.reading import interpret
from bot.errors import BotError, ConfigError, FlowError
from bot.flow.compiler import compile_flow
from bot.flow.loader import load_flow_file
from bot.flow.registry import FlowRegistry
from bot.scheduler import TimerLoop
from bot.service import ConversationService
from bot.settings import Settings
from storage.repository import ConversationRecord, MessageRecord

log = logging.getLogger("salesbot")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `salesbot` console script. Returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        return int(args.run(args))
    except FlowError as exc:
        print(exc, file=sys.stderr)
        print(f"{len(exc.issues)} error(s)", file=sys.stderr)
        return 1
    except BotError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="salesbot", description="Self-hosted sales-qualification chat bot.")
    commands = parser.add_subparsers(metavar="COMMAND")

    chat = commands.add_parser("chat", help="talk to a flow in the terminal as a prospect")
    chat.add_argument("--flow", help="a flow id from FLOWS_DIR or a path to a flow file")
    chat.add_argument("--json", action="store_true", help="JSON lines in and out (default when stdin is not a TTY)")
    chat.set_defaults(run=_chat)

    run = commands.add_parser("run", help="apply migrations and start the bot on the embedded defaults; "
                                          "prints the demo page URL")
    run.add_argument("--flow", help="the default flow: a flow id from FLOWS_DIR or a flow file")
    run.set_defaults(run=_run)

    serve = commands.add_parser("serve", help="start the HTTP server (web chat API, widget, demo page) on "
                                              "HOST:PORT; applies migrations first")
    serve.add_argument("--flow", help="the default flow: a flow id from FLOWS_DIR or a flow file")
    serve.set_defaults(run=_serve)

    flows = commands.add_parser("flows", help="validate, draw, test and debug flow files")
    sub = flows.add_subparsers(metavar="ACTION")
    validate = sub.add_parser("validate", help="check flow files; every error as file:line:col")
    validate.add_argument("paths", nargs="+", type=Path)
    validate.set_defaults(run=_validate)
    graph = sub.add_parser("graph", help="draw a flow as Mermaid text or SVG")
    graph.add_argument("path", type=Path)
    graph.add_argument("--format", choices=("mermaid", "svg"), default="mermaid")
    graph.add_argument("-o", "--output", type=Path, help="write to a file instead of stdout")
    graph.set_defaults(run=_graph)
    match = sub.add_parser("match", help="show how texts are understood at a state")
    match.add_argument("flow", nargs="?", help="flow id or file (default: the default flow)")
    match.add_argument("--state", help="the question state (default: the flow's first question)")
    match.add_argument("--text", action="append", default=[], help="a text to read (repeatable; else stdin)")
    match.set_defaults(run=_match)
    test = sub.add_parser("test", help="run conversation test files")
    test.add_argument("paths", nargs="*", type=Path, help="test files or folders (default: flows/tests)")
    test.set_defaults(run=_test)
    schema = sub.add_parser("schema", help="print the JSON Schema of the flow format")
    schema.set_defaults(run=_schema)

    db = commands.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(metavar="ACTION")
    upgrade = db_sub.add_parser("upgrade", help="apply migrations")
    upgrade.set_defaults(run=_db_upgrade)
    return parser


# ---------------------------------------------------------------- composition


def _settings() -> Settings:
    settings = Settings.from_env(os.environ)
    logging.basicConfig(level=settings.log_level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    return settings


def _registry(settings: Settings, flow: str | None) -> tuple[FlowRegistry, str]:
    """Flows from FLOWS_DIR, or the single file `flow` names."""
    if flow and (flow.endswith((".yaml", ".yml")) or os.sep in flow):
        path = Path(flow)
        if not path.is_file():
            raise ConfigError(f"--flow {flow!r}: no such file; give a flow file path or a flow id")
        compiled = compile_flow(load_flow_file(path))
        return FlowRegistry.from_paths([path], compiled.id), compiled.id
    if not settings.flows_dir.is_dir():
        raise ConfigError(f"FLOWS_DIR={str(settings.flows_dir)!r} is not a directory; point it at your flows folder")
    registry = FlowRegistry.from_paths([settings.flows_dir], flow or settings.default_flow)
    return registry, flow or settings.default_flow


def _now() -> datetime:
    return datetime.now(UTC)


async def _open_store(settings: Settings) -> Any:
    from storage.migrate import upgrade  # noqa: PLC0415 - keeps `flows validate` free of database imports
    from storage.sql import SqlAlchemyStore  # noqa: PLC0415

    await upgrade(settings.database_url)
    return await SqlAlchemyStore.connect(settings.database_url)


# ---------------------------------------------------------------- chat


def _chat(args: argparse.Namespace) -> int:
    settings = _settings()
    registry, flow_id = _registry(settings, args.flow)
    as_json = bool(args.json) or not sys.stdin.isatty()
    return asyncio.run(_chat_loop(settings, registry, flow_id, as_json))


def _run(args: argparse.Namespace) -> int:
    return _start_server(args, announce=True)


# ---------------------------------------------------------------- serve


def _serve(args: argparse.Namespace) -> int:
    return _start_server(args, announce=False)


def _start_server(args: argparse.Namespace, *, announce: bool) -> int:
    """Serve until SIGINT/SIGTERM, then drain and exit 0. Bad settings, flows or database: exit 1, one line."""
    from bot.http.logs import configure_json_logging  # noqa: PLC0415 - keeps the other commands light
    from bot.server import serve  # noqa: PLC0415

    settings = Settings.from_env(os.environ)
    configure_json_logging(settings.log_level)
    registry, _flow_id = _registry(settings, args.flow)

    def started() -> None:
        print(f"salesbot is running: open {settings.base_url}/ (Ctrl+C to stop)", flush=True)

    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        runner.run(serve(settings, flows=registry, on_started=started if announce else None))
    return 0


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop  # noqa: PLC0415 - optional speed-up; absent on Windows
    except ImportError:
        return None
    return uvloop.new_event_loop


async def _chat_loop(settings: Settings, registry: FlowRegistry, flow_id: str, as_json: bool) -> int:
    store = await _open_store(settings)
    try:
        service = ConversationService(store=store, flows=registry, clock=_now)
        printer = TerminalPrinter(sys.stdout, as_json=as_json)

        async def pushed(_conversation: ConversationRecord, messages: Sequence[MessageRecord]) -> None:
            printer.show(messages)

        service.subscribe(pushed)
        started = await service.start(channel="cli", external_user_id=f"cli-{uuid.uuid4().hex[:8]}",
                                      flow_id=flow_id, attributes={"source": "cli"})
        printer.show(started.replies)
        conversation_id = started.conversation.id
        timers = TimerLoop(service, settings.timer_interval)
        timers.start()
        try:
            await _read_lines(service, conversation_id, printer, as_json)
        finally:
            await timers.stop()
        record = await service.get(conversation_id)
        lead = await service.lead(conversation_id)
        if record is not None and lead is not None:
            flow = registry.version(record.state.flow_id, record.state.flow_version) or registry.latest(flow_id)
            data = summary(flow, record.state, lead)
            if as_json:
                printer.line(data)
            else:
                print(f"\n[{data['status']}] outcome={data['outcome']} score={data['score']} tier={data['tier']}")
        return 0
    finally:
        await store.close()


async def _read_lines(service: ConversationService, conversation_id: str, printer: TerminalPrinter,
                      as_json: bool) -> None:
    while True:
        if not as_json:
            print("you> ", end="", flush=True)
        line = await asyncio.to_thread(sys.stdin.readline)
        if not line:
            return
        result = await service.handle(conversation_id, to_inbound(line, printer.options))
        printer.show(result.replies)


# ---------------------------------------------------------------- flows


def _validate(args: argparse.Namespace) -> int:
    issues = []
    files = [f for p in args.paths for f in (sorted(p.glob("*.yaml")) if p.is_dir() else [p])]
    for path in files:
        try:
            compile_flow(load_flow_file(path))
            print(f"{path}: ok")
        except FlowError as exc:
            issues.extend(exc.issues)
    if issues:
        raise FlowError(issues)
    return 0


def _graph(args: argparse.Namespace) -> int:
    from bot.flow.graph import to_mermaid, to_svg  # noqa: PLC0415

    loaded = load_flow_file(args.path)
    compile_flow(loaded)  # draw only valid flows
    text = to_svg(loaded.spec) if args.format == "svg" else to_mermaid(loaded.spec)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {args.output}")
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0


def _match(args: argparse.Namespace) -> int:
    settings = Settings.from_env(os.environ)
    registry, flow_id = _registry(settings, args.flow)
    flow = registry.latest(flow_id)
    state_id = str(args.state or next((sid for sid, st in flow.states.items() if st.question), ""))
    if state_id not in flow.states:
        known = ", ".join(sid for sid, st in flow.states.items() if st.question)
        raise ConfigError(f"--state {state_id!r} is not a state of flow {flow.id!r}; question states: {known}")
    question = flow.states[state_id].question
    texts = args.text or [line.rstrip("\n") for line in sys.stdin]
    now = _now()
    for text in texts:
        meaning = interpret(flow, question, state_id, text, now)
        parsed = meaning.parsed
        print(json.dumps({
            "text": text,
            "state": state_id,
            "match": {"kind": meaning.kind.value, "id": meaning.id or None,
                      "confidence": round(meaning.confidence, 3)},
            "recognised": None if meaning.match is None else {
                "kind": meaning.match.kind.value, "id": meaning.match.id,
                "confidence": round(meaning.match.confidence, 3), "example": meaning.match.example},
            "answer": None if parsed is None else {
                "ok": parsed.ok, "value": parsed.value, "extra": dict(parsed.extra),
                "confidence": round(parsed.confidence, 3), "error": parsed.error or None},
        }, ensure_ascii=False))
    return 0


def _test(args: argparse.Namespace) -> int:
    from bot.flow.testing import run_test_file  # noqa: PLC0415

    paths = args.paths or [Path("flows/tests")]
    files = [f for p in paths for f in (sorted(p.glob("*.yaml")) if p.is_dir() else [p])]
    if not files:
        raise ConfigError(f"no test files found in {', '.join(map(str, paths))}; test files end in .yaml")
    failed = passed = 0
    for file in files:
        result = run_test_file(file)
        for case in result.cases:
            if case.passed:
                passed += 1
                print(f"PASS {file}: {case.name}")
            else:
                failed += 1
                print(f"FAIL {file}: {case.name}")
                for failure in case.failures:
                    print(f"  {failure}")
        missing = result.unvisited()
        covered = len(result.flow.states) - len(missing)
        print(f"     {file}: {covered}/{len(result.flow.states)} states covered"
              + (f" (not visited: {', '.join(missing)})" if missing else ""))
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


def _schema(_args: argparse.Namespace) -> int:
    from bot.flow.jsonschema import flow_json_schema  # noqa: PLC0415

    print(json.dumps(flow_json_schema(), indent=2))
    return 0


def _db_upgrade(_args: argparse.Namespace) -> int:
    from storage.migrate import upgrade  # noqa: PLC0415

    settings = _settings()
    asyncio.run(upgrade(settings.database_url))
    print("database is up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
