"""The flows a server runs: the latest version of each file, plus every older version still in use."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from bot.engine.compiled import CompiledFlow
from bot.errors import ConfigError, FlowError
from bot.flow.compiler import compile_flow
from bot.flow.loader import load_flow_file, load_flow_text


class FlowRegistry:
    """Compiled flows by id and version. Each version is compiled once and shared by its conversations."""

    def __init__(self, flows: Iterable[tuple[CompiledFlow, str]], default: str) -> None:
        self._latest: dict[str, CompiledFlow] = {}
        self._content: dict[tuple[str, str], str] = {}
        self._versions: dict[tuple[str, str], CompiledFlow] = {}
        for flow, content in flows:
            self._latest[flow.id] = flow
            self._versions[(flow.id, flow.version)] = flow
            self._content[(flow.id, flow.version)] = content
        if default not in self._latest:
            known = ", ".join(sorted(self._latest)) or "none"
            raise ConfigError(f"DEFAULT_FLOW={default!r} names no loaded flow (loaded: {known}); "
                              "set DEFAULT_FLOW to one of them")
        self.default = default

    @classmethod
    def from_paths(cls, paths: Iterable[Path], default: str) -> FlowRegistry:
        """Load every flow file; a directory means its *.yaml files. Raises FlowError listing all problems."""
        files: list[Path] = []
        for path in paths:
            files.extend(sorted(path.glob("*.yaml")) if path.is_dir() else [path])
        issues = []
        loaded: list[tuple[CompiledFlow, str]] = []
        first_file: dict[str, Path] = {}
        for file in files:
            try:
                source = load_flow_file(file)
                loaded.append((compile_flow(source), source.content))
            except FlowError as exc:
                issues.extend(exc.issues)
                continue
            flow_id = source.spec.id
            if flow_id in first_file:
                issues.append(source.source.issue(("id",), f"flow id '{flow_id}' is also used by {first_file[flow_id]}",
                                                  "every flow file needs its own id"))
            first_file.setdefault(flow_id, file)
        if issues:
            raise FlowError(issues)
        return cls(loaded, default)

    def ids(self) -> list[str]:
        return sorted(self._latest)

    def latest(self, flow_id: str | None = None) -> CompiledFlow:
        """The current version of a flow (the default flow when `flow_id` is None)."""
        flow = self._latest.get(flow_id or self.default)
        if flow is None:
            raise KeyError(flow_id)
        return flow

    def content(self, flow: CompiledFlow) -> str:
        return self._content[(flow.id, flow.version)]

    def version(self, flow_id: str, version: str) -> CompiledFlow | None:
        """A specific version, if this process has compiled it."""
        return self._versions.get((flow_id, version))

    def load_version(self, flow_id: str, version: str, content: str) -> CompiledFlow:
        """Compile a version from its stored text (a conversation pinned to a flow that has changed since)."""
        flow = self._versions.get((flow_id, version))
        if flow is None:
            flow = compile_flow(load_flow_text(content, f"{flow_id}@{version}"))
            self._versions[(flow_id, version)] = flow
            self._content[(flow_id, version)] = content
        return flow
