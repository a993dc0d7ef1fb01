"""The model registry: built-in models.yaml plus user files whose entries replace built-ins by id.

A registry file is a mapping with one key, `models`, holding a list of model entries (see `ModelSpec`).
Errors name the file, the entry (`models[3](gpt-6.2-sol).parameters.temperature`) and the line.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from cloudinspect.config import get_settings, resources_dir
from cloudinspect.errors import InputError, Problem, UnknownIdError
from cloudinspect.models.spec import Capabilities, ModelSpec, Parameters, Provider, SpecRuleError
from cloudinspect.yamlfiles import Loc, parse_yaml, problems_from_validation


def builtin_models_file() -> Path:
    """The registry shipped with cloudinspect."""
    return resources_dir() / "models.yaml"


@dataclass
class ModelRegistry(Mapping[str, ModelSpec]):
    """Every model by id, with the file each came from."""

    specs: dict[str, ModelSpec] = field(default_factory=dict)
    sources: dict[str, Path] = field(default_factory=dict)

    def __getitem__(self, model_id: str) -> ModelSpec:
        try:
            return self.specs[model_id]
        except KeyError:
            raise UnknownIdError.of("model", model_id, list(self.specs)) from None

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self.specs))

    def __len__(self) -> int:
        return len(self.specs)

    def select(
        self,
        *,
        requires: Iterable[str] = (),
        max_input_price: float | None = None,
        providers: Iterable[str | Provider] | None = None,
        local_only: bool = False,
    ) -> list[ModelSpec]:
        """Models with every required capability, an input price at most `max_input_price`, one of
        `providers`, and (with `local_only`) running on this machine; in id order."""
        wanted = list(requires)
        unknown = [c for c in wanted if c not in Capabilities.names()]
        if unknown:
            raise InputError(
                f"unknown capability {', '.join(repr(c) for c in unknown)}",
                problems=[Problem(f"known capabilities: {', '.join(Capabilities.names())}", "requires")],
            )
        chosen_providers = None if providers is None else {_provider(p) for p in providers}
        chosen = []
        for model_id in self:
            spec = self.specs[model_id]
            if not all(getattr(spec.capabilities, c) for c in wanted):
                continue
            if max_input_price is not None and spec.price.input > max_input_price:
                continue
            if chosen_providers is not None and spec.provider not in chosen_providers:
                continue
            if local_only and not spec.is_local:
                continue
            chosen.append(spec)
        return chosen


def _provider(value: str | Provider) -> Provider:
    try:
        return Provider(value)
    except ValueError:
        raise UnknownIdError.of("provider", str(value), [p.value for p in Provider]) from None


# Parsed files by path, valid while the file's modification time and size stay the same: get_model() reads
# the registry on every call, and specs are immutable, so they can be shared.
_PARSED: dict[Path, tuple[tuple[int, int], dict[str, ModelSpec]]] = {}


def load_models_file(path: Path) -> dict[str, ModelSpec]:
    """Read and validate one registry file; every problem in it is reported at once."""
    try:
        stat = path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
        cached = _PARSED.get(path)
        if cached is not None and cached[0] == stamp:
            return dict(cached[1])
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read model registry file: {exc.strerror}", path) from exc
    data, lines = parse_yaml(text, path)
    if not isinstance(data, dict) or set(data) != {"models"} or not isinstance(data["models"], list):
        raise InputError(
            "expected a mapping with one key, 'models', holding a list of model entries",
            path,
            [Problem("see src/cloudinspect/resources/models.yaml for the format", line=1)],
        )
    specs: dict[str, ModelSpec] = {}
    problems: list[Problem] = []
    for index, entry in enumerate(data["models"]):
        prefix: Loc = ("models", index)
        entry_id = entry.get("id") if isinstance(entry, dict) else None
        label = f"models[{index}]" + (f"({entry_id})" if isinstance(entry_id, str) else "")
        if not isinstance(entry, dict):
            problems.append(Problem("a model entry must be a mapping", label, lines.get(prefix)))
            continue
        try:
            spec = ModelSpec.model_validate(entry)
        except ValidationError as exc:
            problems.extend(_entry_problems(exc, prefix, label, lines))
            continue
        if spec.id in specs:
            problems.append(
                Problem(f"duplicate id '{spec.id}' in this file", f"{label}.id", lines.get((*prefix, "id")))
            )
            continue
        specs[spec.id] = spec
    if problems:
        raise InputError("invalid model registry file", path, problems)
    _PARSED[path] = (stamp, specs)
    return dict(specs)


def _entry_problems(exc: ValidationError, prefix: Loc, label: str, lines: dict[Loc, int]) -> list[Problem]:
    """Problems of one entry, with field paths and lines relative to the whole file."""
    entry_lines = {loc[len(prefix) :]: line for loc, line in lines.items() if loc[: len(prefix)] == prefix}
    problems: list[Problem] = []
    for err, problem in zip(exc.errors(include_url=False), problems_from_validation(exc, entry_lines), strict=True):
        rule_error = (err.get("ctx") or {}).get("error")
        if isinstance(rule_error, SpecRuleError):
            for loc, message in rule_error.violations:
                problems.append(Problem(message, f"{label}.{'.'.join(loc)}", _line(entry_lines, loc)))
        else:
            where = f"{label}.{problem.field}" if problem.field else label
            problems.append(Problem(problem.message, where, problem.line))
    return problems


def _line(lines: dict[Loc, int], loc: tuple[str, ...]) -> int | None:
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def load_registry(extra_files: Iterable[Path] | None = None, *, include_builtin: bool = True) -> ModelRegistry:
    """The built-in registry, then the settings' model files, then `extra_files`; later entries replace
    earlier ones with the same id (whole entries, not field by field)."""
    files = [builtin_models_file()] if include_builtin else []
    files += list(get_settings().model_files)
    files += list(extra_files or [])
    registry = ModelRegistry()
    for path in files:
        for model_id, spec in load_models_file(path).items():
            registry.specs[model_id] = spec
            registry.sources[model_id] = path
    return registry


def get_spec(model_id: str, extra_files: Iterable[Path] | None = None) -> ModelSpec:
    """One model's spec by id; UnknownIdError (with close matches) when no file defines it.

    `replay:PATH` needs no registry entry: it names a file of recorded replies (see `models.replay`)."""
    from cloudinspect.models.replay import REPLAY_PREFIX, replay_spec

    if model_id.startswith(REPLAY_PREFIX):
        return replay_spec(model_id.removeprefix(REPLAY_PREFIX))
    return load_registry(extra_files)[model_id]


def select_models(
    requires: Iterable[str] = (),
    max_input_price: float | None = None,
    providers: Iterable[str | Provider] | None = None,
    local_only: bool = False,
    *,
    extra_files: Iterable[Path] | None = None,
) -> list[ModelSpec]:
    """Models of the registry that match every filter (see `ModelRegistry.select`)."""
    return load_registry(extra_files).select(
        requires=requires, max_input_price=max_input_price, providers=providers, local_only=local_only
    )


def spec_with(spec: ModelSpec, **overrides: Any) -> ModelSpec:
    """A copy of `spec` with parameters (temperature=...) or top-level fields (n_ctx=...) replaced,
    validated again so that provider rules still hold."""
    data = spec.model_dump(mode="python", exclude_none=True)
    params = dict(data.get("parameters", {}))
    problems = []
    for name, value in overrides.items():
        if name in Parameters.model_fields:
            params[name] = value
        elif name in ModelSpec.model_fields and name not in ("id", "provider"):
            data[name] = value
        else:
            problems.append(Problem("not a model parameter or field", name))
    if problems:
        raise InputError(f"invalid overrides for model '{spec.id}'", problems=problems)
    data["parameters"] = params
    try:
        return ModelSpec.model_validate(data)
    except ValidationError as exc:
        raise InputError(
            f"invalid overrides for model '{spec.id}'", problems=_entry_problems(exc, (), spec.id, {})
        ) from exc
