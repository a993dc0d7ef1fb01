"""Publishing a benchmark to LangSmith: the tasks as a dataset, each model's cells as an experiment on it, so that
LangSmith's comparison view can set models side by side.

When: uploads are a deliberate act, not a side effect of having a key. `CLOUDINSPECT_LANGSMITH_UPLOAD=true` asks for
them, `=false` (or 0/no/off) forbids them; unset, they follow tracing (`LANGSMITH_TRACING=true`: the user already
sends this process's work to LangSmith). Either way an API key (`LANGSMITH_API_KEY` or `LANGCHAIN_API_KEY`) is
needed. A key alone is not enough: it may be in the environment for something else.

What: one dataset per set of tasks, named `cloudinspect-bench-<hash of the rendered requests and scenarios>`, with
one example per task (inputs: prompt id, title, the rendered request, scenarios; reference outputs: the canonical
output on each scenario, when known). Example ids are derived from the dataset name and the prompt id, so a rerun
(or another benchmark over the same tasks) reuses the dataset and adds only missing examples. Per model, an
experiment (a LangSmith project whose `reference_dataset_id` is the dataset) named `<directory>-<model>-<hash>`
holds one run per cell, linked to its task's example, with feedback `solved`, `attempts`, `cost_usd` and
`first_try`. The hash covers the dataset, the config and the model's results: an unchanged benchmark publishes
nothing again; a resumed one with new results is a new experiment. An experiment is marked finished (its
`end_time`) once all its runs and feedback are sent; one found unfinished (an upload interrupted) is sent again
with the same run and feedback ids.

Everything sent is redacted here (`cloudinspect.redact`), whatever client is used, and the default client is a
`RedactingClient` as well. A LangSmith failure is a warning in the report, never a benchmark failure.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import langsmith
from pydantic import BaseModel, Field

from cloudinspect.bench.types import BenchConfig, CellResult, Task
from cloudinspect.catalog import Catalog
from cloudinspect.redact import redact_data, redact_text, register_env_secrets, register_secret

__all__ = [
    "FEEDBACK_KEYS",
    "UPLOAD_VARIABLE",
    "ExperimentReport",
    "PublishReport",
    "dataset_name",
    "example_id",
    "experiment_name",
    "publish_to_langsmith",
    "upload_configured",
]

UPLOAD_VARIABLE = "CLOUDINSPECT_LANGSMITH_UPLOAD"
FEEDBACK_KEYS = ("solved", "attempts", "cost_usd", "first_try")
DATASET_PREFIX = "cloudinspect-bench-"
_API_KEY_VARIABLES = ("LANGSMITH_API_KEY", "LANGCHAIN_API_KEY")
_FALSE = frozenset({"0", "false", "no", "off"})
_TRUE = frozenset({"1", "true", "yes", "on"})
_NAMESPACE = uuid.UUID("6f1c2a4e-8e0b-5d3a-9c47-0b6e5a1d2c39")
"""Fixed, so that example, run and feedback ids are the same on every machine and every rerun."""
_HASH_CHARS = 10
_MAX_NAME = 120

logger = logging.getLogger(__name__)


class ExperimentReport(BaseModel):
    """One model's experiment: its name, and whether this call sent it or found it already published."""

    model_id: str
    name: str
    project_id: str | None = None
    runs: int = 0
    already_published: bool = False


class PublishReport(BaseModel):
    """What `publish_to_langsmith` did; `warnings` holds every LangSmith error (none of them is fatal)."""

    dataset_name: str
    dataset_id: str | None = None
    examples_created: int = 0
    examples_reused: int = 0
    experiments: list[ExperimentReport] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)


# -- the switch ----------------------------------------------------------------------------------------------------


def upload_configured(environ: Mapping[str, str] | None = None) -> bool:
    """Whether a benchmark is published to LangSmith (see the module docstring): an API key, and
    `CLOUDINSPECT_LANGSMITH_UPLOAD` true, or unset while LangSmith tracing is on."""
    env = os.environ if environ is None else environ
    if not any(env.get(name, "").strip() for name in _API_KEY_VARIABLES):
        return False
    choice = env.get(UPLOAD_VARIABLE, "").strip().lower()
    if choice in _FALSE:
        return False
    if choice in _TRUE:
        return True
    from cloudinspect.observability import tracing_enabled

    return tracing_enabled()


# -- names and ids -------------------------------------------------------------------------------------------------


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:_HASH_CHARS]


def _request(catalog: Catalog, prompt_id: str) -> str:
    from cloudinspect.catalog import render_prompt

    return render_prompt(catalog[prompt_id])


def dataset_name(tasks: Sequence[Task], catalog: Catalog) -> str:
    """`cloudinspect-bench-<hash>` of the tasks' rendered requests and scenarios: the same tasks always name the
    same dataset, and a changed prompt names a new one (its examples would no longer match the runs)."""
    key = [[task.prompt_id, _request(catalog, task.prompt_id), task.scenarios] for task in tasks]
    return DATASET_PREFIX + _digest(key)


def example_id(dataset: str, prompt_id: str) -> uuid.UUID:
    """The example of `prompt_id` in `dataset`: derived, so that reruns find it instead of adding another."""
    return uuid.uuid5(_NAMESPACE, f"example/{dataset}/{prompt_id}")


def experiment_name(
    directory: Path, model_id: str, dataset: str, config: BenchConfig, results: Sequence[CellResult]
) -> str:
    """`<directory name>-<model>-<hash>`; the hash covers the dataset, the config and this model's results."""
    mine = sorted(
        (r.cell.key, r.status, r.attempts, r.passed_at, r.cost_usd) for r in results if r.cell.model_id == model_id
    )
    digest = _digest([dataset, model_id, config.model_dump(mode="json"), mine])
    stem = f"{directory.resolve().name}-{model_id}"[: _MAX_NAME - _HASH_CHARS - 1]
    return f"{stem}-{digest}"


# -- payloads ------------------------------------------------------------------------------------------------------


def _clean(value: Any) -> dict[str, Any]:
    redacted = redact_data(value)
    return redacted if isinstance(redacted, dict) else {}


def _example(
    dataset: str,
    task: Task,
    catalog: Catalog,
    answers: Mapping[tuple[str, str], Any],
) -> dict[str, Any]:
    from cloudinspect.loop.context import NO_ANSWER

    prompt = catalog[task.prompt_id]
    canonical = {
        scenario: answers[(task.prompt_id, scenario)]
        for scenario in task.scenarios
        if (task.prompt_id, scenario) in answers and answers[(task.prompt_id, scenario)] is not NO_ANSWER
    }
    return {
        "id": example_id(dataset, task.prompt_id),
        "inputs": _clean(
            {
                "prompt_id": task.prompt_id,
                "title": prompt.title,
                "request": _request(catalog, task.prompt_id),
                "scenarios": list(task.scenarios),
            }
        ),
        "reference_outputs": _clean({"canonical": canonical}),
        "metadata": _clean({"service": task.service, "category": task.category}),
    }


def _run_outputs(result: CellResult) -> dict[str, Any]:
    return _clean(
        {
            "status": result.status,
            "solved": result.solved,
            "attempts": result.attempts,
            "passed_at": result.passed_at,
            "failure_class": result.failure_class,
            "reason": result.reason,
            "grades": [grade.model_dump(mode="json") for grade in result.grades],
            "tokens_in": result.tokens_in,
            "tokens_out": result.tokens_out,
            "cost_usd": result.cost_usd,
        }
    )


def _feedback(result: CellResult) -> dict[str, float]:
    return {
        "solved": float(result.solved),
        "attempts": float(result.attempts),
        "cost_usd": result.cost_usd,
        "first_try": float(result.solved and result.passed_at == 1),
    }


# -- publishing ----------------------------------------------------------------------------------------------------


def _default_client() -> langsmith.Client:
    from cloudinspect.observability import RedactingClient, install_tracing

    installed = install_tracing()
    if installed is not None:
        return installed
    for name in _API_KEY_VARIABLES:
        register_secret(os.environ.get(name, ""))
    register_env_secrets()
    return RedactingClient()


def _warn(report: PublishReport, what: str, exc: BaseException) -> None:
    message = redact_text(f"LangSmith: {what} failed: {type(exc).__name__}: {exc}")[:500]
    logger.warning("%s", message)
    report.warnings.append(message)


def _ensure_dataset(
    client: langsmith.Client,
    report: PublishReport,
    tasks: Sequence[Task],
    catalog: Catalog,
    answers: Mapping[tuple[str, str], Any],
) -> str:
    """The dataset's id, created if missing, with an example for every task (existing ones are kept as they are)."""
    name = report.dataset_name
    try:
        dataset = client.read_dataset(dataset_name=name)
    except langsmith.utils.LangSmithNotFoundError:
        dataset = client.create_dataset(
            name,
            description="cloudinspect benchmark tasks: a catalogue prompt over scenarios, with the canonical output "
            "on each scenario.",
            metadata={"cloudinspect": "bench", "tasks": len(tasks)},
        )
    dataset_id = str(dataset.id)
    existing = {str(example.id) for example in client.list_examples(dataset_id=dataset_id)}
    missing = [task for task in tasks if str(example_id(name, task.prompt_id)) not in existing]
    if missing:
        client.create_examples(dataset_id=dataset_id, examples=[_example(name, t, catalog, answers) for t in missing])
    report.examples_created = len(missing)
    report.examples_reused = len(tasks) - len(missing)
    return dataset_id


def _publish_model(
    client: langsmith.Client,
    experiment: ExperimentReport,
    dataset: str,
    dataset_id: str,
    config: BenchConfig,
    results: Sequence[CellResult],
) -> None:
    """One model's experiment: the project, a run per cell linked to its example, the feedback, then `end_time`."""
    try:
        project = client.read_project(project_name=experiment.name)
        if project.end_time is not None:
            experiment.project_id, experiment.already_published = str(project.id), True
            return
    except langsmith.utils.LangSmithNotFoundError:
        project = client.create_project(
            experiment.name,
            reference_dataset_id=dataset_id,
            description=f"cloudinspect benchmark: {experiment.model_id}",
            metadata=_clean(
                {
                    "model": experiment.model_id,
                    "scenarios": config.scenarios,
                    "max_attempts": config.max_attempts,
                    "repeat": config.repeat,
                }
            ),
        )
    experiment.project_id = str(project.id)
    runs: list[tuple[uuid.UUID, CellResult]] = []
    for result in results:
        cell = result.cell
        run_id = uuid.uuid5(_NAMESPACE, f"run/{experiment.name}/{cell.key}")
        start = result.started_at.astimezone(UTC)
        client.create_run(
            name=redact_text(f"{cell.model_id}: {cell.prompt_id}"),
            inputs=_clean({"prompt_id": cell.prompt_id, "repeat": cell.repeat}),
            run_type="chain",
            project_name=experiment.name,
            id=run_id,
            trace_id=run_id,
            dotted_order=start.strftime("%Y%m%dT%H%M%S%fZ") + str(run_id),
            start_time=start,
            end_time=result.finished_at.astimezone(UTC),
            outputs=_run_outputs(result),
            error=redact_text(result.reason) if result.status == "error" else None,
            reference_example_id=example_id(dataset, cell.prompt_id),
            tags=[redact_text(cell.model_id), result.status],
            extra={"metadata": _clean({"model": cell.model_id, "repeat": cell.repeat, "cell": cell.key})},
        )
        runs.append((run_id, result))
    client.flush()  # feedback refers to the runs: they must exist first
    for run_id, result in runs:
        for key, score in _feedback(result).items():
            client.create_feedback(
                trace_id=run_id,
                key=key,
                score=score,
                session_id=project.id,
                feedback_id=uuid.uuid5(_NAMESPACE, f"feedback/{run_id}/{key}"),
            )
    client.flush()
    client.update_project(project.id, end_time=datetime.now(UTC))
    experiment.runs = len(runs)


def publish_to_langsmith(
    directory: Path,
    config: BenchConfig,
    tasks: Sequence[Task],
    results: Sequence[CellResult],
    *,
    client: langsmith.Client | None = None,
    catalog: Catalog | None = None,
    answers: Mapping[tuple[str, str], Any] | None = None,
) -> PublishReport | None:
    """Publish the benchmark in `directory` to LangSmith (module docstring): None when uploads are not configured
    (`upload_configured()`), else what was sent, with any LangSmith error as a warning (never raised).

    `client`: default the installed redacting tracing client, else a new `RedactingClient`. `catalog`: the one the
    tasks came from (default: the user's catalogue). `answers`: canonical outputs by (prompt id, scenario), for
    the examples' reference outputs; tasks without them get examples without them.
    """
    if not upload_configured():
        return None
    from cloudinspect.catalog import load_catalog

    entries = catalog if catalog is not None else load_catalog()
    report = PublishReport(dataset_name="")
    try:
        report.dataset_name = dataset_name(tasks, entries)
        client = client if client is not None else _default_client()
        report.dataset_id = _ensure_dataset(client, report, tasks, entries, answers or {})
    except Exception as exc:  # LangSmith is optional: the benchmark's own results are complete without it
        _warn(report, "dataset upload", exc)
        return report
    for model_id in config.models:
        mine = [r for r in results if r.cell.model_id == model_id]
        experiment = ExperimentReport(
            model_id=model_id, name=experiment_name(directory, model_id, report.dataset_name, config, results)
        )
        report.experiments.append(experiment)
        try:
            _publish_model(client, experiment, report.dataset_name, report.dataset_id, config, mine)
        except Exception as exc:
            _warn(report, f"experiment {experiment.name}", exc)
    return report
