"""Choosing the benchmark's tasks: catalogue prompts picked by selectors, each over the selected scenarios.

Selectors are the `--prompts` values: an id glob (`lambda-*`, `s3-public-buckets`), `service:NAME`, `tag:NAME` or
`category:NAME`. A prompt is selected when any selector matches it. Every selector must match at least one
prompt: a typo would otherwise shrink the benchmark silently and make its figures incomparable.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence

from cloudinspect.bench.types import BenchConfig, Cell, Task
from cloudinspect.catalog import Catalog, InspectionPrompt
from cloudinspect.errors import InputError, Problem

SELECTOR_KINDS = ("service", "tag", "category")
"""Selector prefixes besides a plain id glob."""


def _matcher(selector: str) -> tuple[str, str]:
    """(kind, value) of a selector: kind 'id' for a glob, else its prefix; InputError for an unknown prefix."""
    kind, sep, value = selector.partition(":")
    if not sep:
        return "id", selector
    if kind not in SELECTOR_KINDS or not value:
        raise InputError(
            f"bad prompt selector {selector!r}",
            None,
            [Problem("expected an id glob ('lambda-*'), 'service:NAME', 'tag:NAME' or 'category:NAME'", "prompts")],
        )
    return kind, value


def _matches(kind: str, value: str, prompt: InspectionPrompt) -> bool:
    if kind == "id":
        return fnmatch.fnmatchcase(prompt.id, value)
    if kind == "service":
        return value in prompt.services
    if kind == "tag":
        return value in prompt.tags
    return prompt.category.value == value


def _check_scenarios(scenarios: Sequence[str]) -> None:
    from cloudinspect.cloud.loader import scenario_paths
    from cloudinspect.errors import UnknownIdError

    if not scenarios:
        raise InputError("a benchmark needs at least one scenario", None, [Problem("none given", "scenarios")])
    known = scenario_paths()
    for name in scenarios:
        if name not in known:
            raise UnknownIdError.of("scenario", name, list(known))
    duplicates = sorted({name for name in scenarios if list(scenarios).count(name) > 1})
    if duplicates:
        raise InputError(
            "a scenario is selected twice",
            None,
            [Problem(f"{', '.join(duplicates)} given more than once", "scenarios")],
        )


def select_tasks(selectors: Sequence[str], scenarios: Sequence[str], catalog: Catalog | None = None) -> list[Task]:
    """The tasks that `selectors` pick from `catalog` (default: the user's catalogue), over `scenarios`, in prompt
    id order. InputError for an unknown selector kind, a selector that matches nothing, or an unknown scenario."""
    from cloudinspect.catalog import load_catalog

    _check_scenarios(scenarios)
    if not selectors:
        raise InputError("no prompt selector given", None, [Problem("give at least one, e.g. '*'", "prompts")])
    entries = catalog if catalog is not None else load_catalog()
    parsed = [(selector, *_matcher(selector)) for selector in selectors]
    chosen: dict[str, InspectionPrompt] = {}
    for selector, kind, value in parsed:
        hits = [entries[pid] for pid in entries if _matches(kind, value, entries[pid])]
        if not hits:
            raise InputError(
                f"prompt selector {selector!r} selects no prompt",
                None,
                [Problem(f"no prompt of the catalogue ({len(entries)} prompts) matches it", "prompts")],
            )
        chosen.update((p.id, p) for p in hits)
    return [
        Task(
            prompt_id=prompt.id,
            service=prompt.services[0],
            category=prompt.category.value,
            scenarios=list(scenarios),
        )
        for prompt in sorted(chosen.values(), key=lambda p: p.id)
    ]


def build_cells(config: BenchConfig, tasks: Sequence[Task]) -> list[Cell]:
    """The matrix: every model x task x repeat, interleaved so that consecutive cells use different models (a
    bounded pool then keeps several providers busy instead of queueing on one provider's limit)."""
    return [
        Cell(model_id=model, prompt_id=task.prompt_id, repeat=repeat)
        for repeat in range(config.repeat)
        for task in tasks
        for model in config.models
    ]
