"""Loading scenarios: the built-in ones plus user directories that override them by name."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from cloudinspect.cloud.scenario import Scenario
from cloudinspect.config import get_settings, resources_dir
from cloudinspect.errors import InputError, Problem, UnknownIdError
from cloudinspect.yamlfiles import iter_yaml_files, load_model, parse_yaml


def builtin_scenario_dir() -> Path:
    """The scenarios shipped with cloudinspect."""
    return resources_dir() / "scenarios"


def load_scenario_file(path: Path) -> Scenario:
    """Load and validate one scenario file: schema, name == file stem, and references between resources."""
    scenario = load_model(path, Scenario)
    problems: list[Problem] = []
    if scenario.name != path.stem:
        problems.append(Problem(f"name is '{scenario.name}' but the file is '{path.name}'", "name"))
    references = list(scenario.reference_problems())
    if references:
        _, lines = parse_yaml(path.read_text(encoding="utf-8"), path)
        for loc, message in references:
            line = next((lines[loc[:end]] for end in range(len(loc), 0, -1) if loc[:end] in lines), None)
            problems.append(Problem(message, ".".join(str(p) for p in loc), line))
    if problems:
        raise InputError(f"invalid {Scenario.__name__}", path, problems)
    return scenario


def scenario_paths(extra_dirs: Iterable[Path] | None = None) -> dict[str, Path]:
    """Scenario name -> file, built-ins first, user directories (settings) overriding them by name."""
    dirs = [builtin_scenario_dir(), *(get_settings().scenario_dirs if extra_dirs is None else extra_dirs)]
    found: dict[str, Path] = {}
    for root in dirs:
        if not root.is_dir():
            raise InputError("scenario directory does not exist", root)
        for path in iter_yaml_files(root):
            found[path.stem] = path
    return found


def load_scenarios(extra_dirs: Iterable[Path] | None = None) -> dict[str, Scenario]:
    """Every scenario by name (validated), user directories overriding built-ins."""
    return {name: load_scenario_file(path) for name, path in sorted(scenario_paths(extra_dirs).items())}


def get_scenario(name: str, extra_dirs: Iterable[Path] | None = None) -> Scenario:
    """One scenario by name; UnknownIdError (exit 2) when no directory has it."""
    paths = scenario_paths(extra_dirs)
    if name not in paths:
        raise UnknownIdError.of("scenario", name, list(paths))
    return load_scenario_file(paths[name])
