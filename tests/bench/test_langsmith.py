"""Publishing a benchmark to LangSmith, against a fake LangSmith on loopback that keeps datasets, examples, projects,
runs and feedback as the real service would (just enough of it for the SDK): a dataset with one example per task,
one experiment per model with runs linked to the examples and feedback, reruns that add nothing, no planted secret
in any request, and nothing at all sent when uploads are not configured.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from cloudinspect.bench.langsmith import (
    UPLOAD_VARIABLE,
    dataset_name,
    example_id,
    publish_to_langsmith,
    upload_configured,
)
from cloudinspect.bench.tasks import select_tasks
from cloudinspect.bench.types import BenchConfig, Cell, CellResult, ScenarioGrade, Task
from cloudinspect.catalog import Catalog, load_catalog
from cloudinspect.loop.context import NO_ANSWER
from cloudinspect.redact import register_secret
from tests.test_observability import (
    API_KEY,
    AWS_SECRET,
    KEY_ID,
    LANGSMITH_VARIABLES,
    OPENAI_KEY,
    PASSWORD,
    REGISTERED,
    SECRETS,
    _forget_langsmith_state,
    _reread_environment,
)

MODELS = ["replay:a.json", "replay:b.json"]
SCENARIOS = ["baseline", "startup"]
TENANT = "00000000-0000-4000-8000-000000000001"


@dataclass
class FakeLangSmith:
    """A LangSmith that remembers what it was sent: the raw bodies (for the secret check) and the objects."""

    url: str = ""
    bodies: list[str] = field(default_factory=list)
    datasets: dict[str, dict[str, Any]] = field(default_factory=dict)
    examples: dict[str, dict[str, Any]] = field(default_factory=dict)
    projects: dict[str, dict[str, Any]] = field(default_factory=dict)
    runs: dict[str, dict[str, Any]] = field(default_factory=dict)
    feedback: list[dict[str, Any]] = field(default_factory=list)
    writes: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def text(self) -> str:
        return "\n".join(self.bodies)

    def runs_of(self, project_name: str) -> list[dict[str, Any]]:
        return [run for run in self.runs.values() if run.get("session_name") == project_name]


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _multipart(content_type: str, raw: bytes) -> list[tuple[str, Any]]:
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + raw
    )
    return [
        (str(part.get_param("name", header="content-disposition")), json.loads(part.get_payload(decode=True)))
        for part in message.iter_parts()
    ]


def _ingest(fake: FakeLangSmith, content_type: str, raw: bytes) -> None:
    for name, value in _multipart(content_type, raw):
        kind, _, rest = name.partition(".")
        run_id, _, part = rest.partition(".")
        if kind == "feedback":
            fake.feedback.append(value)
        elif kind in ("post", "patch"):
            run = fake.runs.setdefault(run_id, {})
            if part:
                run[part] = value
            else:
                run.update(value)


def _respond(fake: FakeLangSmith, method: str, url: str, headers: Any, raw: bytes) -> tuple[int, Any]:
    parsed = urlparse(url)
    path, query = parsed.path, {k: v[0] for k, v in parse_qs(parsed.query).items()}
    body = json.loads(raw) if raw and headers.get("Content-Type", "").startswith("application/json") else None
    if path == "/info":
        return 200, {"version": "0.10.0", "instance_flags": {"zstd_compression_enabled": True}}
    if method != "GET":
        fake.writes += 1
    if path == "/datasets" and method == "GET":
        hits = [d for d in fake.datasets.values() if d["name"] == query.get("name")]
        return 200, hits[:1]
    if path == "/datasets" and method == "POST":
        dataset = {**body, "id": str(uuid.uuid4()), "created_at": _now()}
        fake.datasets[dataset["id"]] = dataset
        return 200, dataset
    if path == "/examples" and method == "GET":
        if int(query.get("offset", 0)) > 0:
            return 200, []
        return 200, [e for e in fake.examples.values() if e["dataset_id"] == query.get("dataset")]
    if path == "/examples/bulk":
        for example in body:
            fake.examples[example["id"]] = example
        return 200, [{"id": e["id"]} for e in body]
    if path == "/sessions" and method == "GET":
        return 200, [p for p in fake.projects.values() if p["name"] == query.get("name")][:1]
    if path == "/sessions" and method == "POST":
        project = {"reference_dataset_id": None, **body, "tenant_id": TENANT, "start_time": _now()}
        fake.projects[project["id"]] = project
        return 200, project
    if path.startswith("/sessions/") and method == "PATCH":
        project = fake.projects[path.rsplit("/", 1)[1]]
        project.update({k: v for k, v in body.items() if v is not None})
        return 200, project
    if path == "/runs/multipart":
        _ingest(fake, headers["Content-Type"], raw)
        return 202, {}
    if path == "/feedback":
        fake.feedback.append(body)
        return 200, {}
    return 404, {"detail": f"{method} {path} is not faked"}


def _handler(fake: FakeLangSmith) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if self.headers.get("Content-Encoding") == "zstd":
                import zstandard

                raw = zstandard.ZstdDecompressor().decompressobj().decompress(raw)
            with fake.lock:
                if self.command != "GET":
                    fake.bodies.append(raw.decode("utf-8", errors="replace"))
                fake.bodies.append(self.path)
                status, answer = _respond(fake, self.command, self.path, self.headers, raw)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = _serve

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


@pytest.fixture
def fake_langsmith() -> Iterator[FakeLangSmith]:
    fake = FakeLangSmith()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture
def langsmith_env(monkeypatch: pytest.MonkeyPatch, fake_langsmith: FakeLangSmith) -> Iterator[pytest.MonkeyPatch]:
    """Only the test's LangSmith variables (pointing at the fake), and no state left by another test."""
    for name in (*LANGSMITH_VARIABLES, UPLOAD_VARIABLE):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("LANGSMITH_ENDPOINT", fake_langsmith.url)
    _forget_langsmith_state()
    yield monkeypatch
    _forget_langsmith_state()


@pytest.fixture
def uploads_on(langsmith_env: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    langsmith_env.setenv("LANGSMITH_API_KEY", API_KEY)
    langsmith_env.setenv(UPLOAD_VARIABLE, "true")
    _reread_environment()
    register_secret(REGISTERED)
    return langsmith_env


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="module")
def tasks(catalog: Catalog) -> list[Task]:
    return select_tasks(["s3-*"], SCENARIOS, catalog)[:3]


def _config() -> BenchConfig:
    return BenchConfig(models=MODELS, prompts=["s3-*"], scenarios=SCENARIOS, repeat=2)


def _results(tasks: list[Task]) -> list[CellResult]:
    """Every cell: model a solves everything at the first attempt, model b fails with secrets in its reason."""
    stamp = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    results = []
    for model in MODELS:
        good = model == MODELS[0]
        for task in tasks:
            for repeat in range(2):
                results.append(
                    CellResult(
                        cell=Cell(model_id=model, prompt_id=task.prompt_id, repeat=repeat),
                        status="solved" if good else "failed",
                        solved=good,
                        attempts=1 if good else 3,
                        passed_at=1 if good else None,
                        failure_class="none" if good else "wrong_output",
                        grades=[
                            ScenarioGrade(
                                scenario="startup",
                                passed=good,
                                detail="" if good else f"printed aws_secret_access_key={AWS_SECRET} for {KEY_ID}",
                            )
                        ],
                        cost_usd=0.0 if good else 0.0125,
                        reason="" if good else f"key={OPENAI_KEY} password={PASSWORD} owner {REGISTERED}",
                        started_at=stamp,
                        finished_at=stamp,
                    )
                )
    return results


def _answers(tasks: list[Task]) -> dict[tuple[str, str], Any]:
    answers: dict[tuple[str, str], Any] = {
        (task.prompt_id, "baseline"): {"buckets": [{"name": "logs", "SecretAccessKey": AWS_SECRET}]} for task in tasks
    }
    answers[(tasks[0].prompt_id, "startup")] = NO_ANSWER
    return answers


def _assert_no_secret(fake: FakeLangSmith) -> None:
    text = fake.text()
    for secret in SECRETS:
        assert secret not in text, secret
        assert json.dumps(secret)[1:-1] not in text, secret


def test_the_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    assert not upload_configured({})
    assert not upload_configured({UPLOAD_VARIABLE: "true"})  # no key
    assert upload_configured({"LANGSMITH_API_KEY": API_KEY, UPLOAD_VARIABLE: "true"})
    assert upload_configured({"LANGCHAIN_API_KEY": API_KEY, UPLOAD_VARIABLE: "1"})
    assert not upload_configured({"LANGSMITH_API_KEY": API_KEY, UPLOAD_VARIABLE: "false", "LANGSMITH_TRACING": "true"})
    # Unset: uploads follow tracing; a key alone is not consent.
    for name in LANGSMITH_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    _reread_environment()
    try:
        assert not upload_configured({"LANGSMITH_API_KEY": API_KEY})
        monkeypatch.setenv("LANGSMITH_TRACING", "true")
        _reread_environment()
        assert upload_configured({"LANGSMITH_API_KEY": API_KEY})
    finally:
        monkeypatch.delenv("LANGSMITH_TRACING")
        _reread_environment()


def test_publishes_a_dataset_and_one_experiment_per_model(
    uploads_on: pytest.MonkeyPatch, fake_langsmith: FakeLangSmith, tmp_path: Path, catalog: Catalog, tasks: list[Task]
) -> None:
    directory = tmp_path / "bench-run"
    results = _results(tasks)
    report = publish_to_langsmith(directory, _config(), tasks, results, catalog=catalog, answers=_answers(tasks))
    assert report is not None
    assert report.warnings == []
    fake = fake_langsmith

    # The dataset: one example per task, with its request and the known canonical outputs.
    name = dataset_name(tasks, catalog)
    assert [d["name"] for d in fake.datasets.values()] == [name] == [report.dataset_name]
    assert report.examples_created == len(tasks) == len(fake.examples)
    first = fake.examples[str(example_id(name, tasks[0].prompt_id))]
    assert first["inputs"]["prompt_id"] == tasks[0].prompt_id
    assert first["inputs"]["title"] == catalog[tasks[0].prompt_id].title
    assert first["inputs"]["scenarios"] == SCENARIOS
    assert first["inputs"]["request"].startswith(catalog[tasks[0].prompt_id].template.split("{")[0].strip()[:20])
    assert set(first["outputs"]["canonical"]) == {"baseline"}  # NO_ANSWER on startup is left out
    assert first["outputs"]["canonical"]["baseline"]["buckets"][0]["name"] == "logs"

    # One experiment per model, on the dataset, finished, with a run per cell linked to its example.
    dataset_id = report.dataset_id
    projects = {p["name"]: p for p in fake.projects.values()}
    assert sorted(projects) == sorted(e.name for e in report.experiments)
    assert len(projects) == len(MODELS)
    for experiment in report.experiments:
        assert experiment.name.startswith(f"bench-run-{experiment.model_id}-")
        project = projects[experiment.name]
        assert project["reference_dataset_id"] == dataset_id
        assert project.get("end_time")
        runs = fake.runs_of(experiment.name)
        assert len(runs) == experiment.runs == len(tasks) * 2
        linked = {run["reference_example_id"] for run in runs}
        assert linked == {str(example_id(name, task.prompt_id)) for task in tasks}

    # Feedback: four keys per run, with the cells' values.
    by_run: dict[str, dict[str, float]] = {}
    for item in fake.feedback:
        by_run.setdefault(item["trace_id"], {})[item["key"]] = item["score"]
    good, bad = (fake.runs_of(e.name) for e in report.experiments)
    assert all(by_run[run["id"]] == {"solved": 1.0, "attempts": 1.0, "cost_usd": 0.0, "first_try": 1.0} for run in good)
    assert all(
        by_run[run["id"]] == {"solved": 0.0, "attempts": 3.0, "cost_usd": 0.0125, "first_try": 0.0} for run in bad
    )
    assert bad[0]["outputs"]["failure_class"] == "wrong_output"

    _assert_no_secret(fake)
    assert "[REDACTED" in fake.text()  # the secrets were there, and were redacted


def test_a_rerun_adds_nothing_and_new_results_make_a_new_experiment(
    uploads_on: pytest.MonkeyPatch, fake_langsmith: FakeLangSmith, tmp_path: Path, catalog: Catalog, tasks: list[Task]
) -> None:
    directory = tmp_path / "bench-run"
    results = _results(tasks)
    publish_to_langsmith(directory, _config(), tasks, results, catalog=catalog)
    counts = (len(fake_langsmith.datasets), len(fake_langsmith.examples), len(fake_langsmith.projects))
    runs, feedback = len(fake_langsmith.runs), len(fake_langsmith.feedback)

    again = publish_to_langsmith(directory, _config(), tasks, results, catalog=catalog)
    assert again is not None
    assert again.warnings == []
    assert again.examples_reused == len(tasks)
    assert again.examples_created == 0
    assert all(e.already_published for e in again.experiments)
    assert (len(fake_langsmith.datasets), len(fake_langsmith.examples), len(fake_langsmith.projects)) == counts
    assert (len(fake_langsmith.runs), len(fake_langsmith.feedback)) == (runs, feedback)

    # One more task's worth of results for model a: a new experiment for a, none for b, the dataset reused.
    changed = [
        r.model_copy(update={"attempts": 2, "passed_at": 2}) if r.cell.model_id == MODELS[0] else r for r in results
    ]
    third = publish_to_langsmith(directory, _config(), tasks, changed, catalog=catalog)
    assert third is not None
    assert [e.already_published for e in third.experiments] == [False, True]
    assert len(fake_langsmith.projects) == counts[2] + 1
    assert len(fake_langsmith.datasets) == 1


def test_langsmith_errors_are_warnings(
    uploads_on: pytest.MonkeyPatch, tmp_path: Path, catalog: Catalog, tasks: list[Task]
) -> None:
    # Nothing listens on the endpoint: every call fails.
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    uploads_on.setenv("LANGSMITH_ENDPOINT", dead)
    _forget_langsmith_state()
    from langsmith import Client

    client = Client(api_url=dead, api_key=API_KEY, retry_config={"total": 0}, timeout_ms=2000)
    report = publish_to_langsmith(tmp_path, _config(), tasks, _results(tasks), catalog=catalog, client=client)
    assert report is not None
    assert report.warnings
    assert "dataset upload failed" in report.warnings[0]
    assert API_KEY not in " ".join(report.warnings)


def test_nothing_is_sent_when_not_configured(
    langsmith_env: pytest.MonkeyPatch,
    fake_langsmith: FakeLangSmith,
    tmp_path: Path,
    catalog: Catalog,
    tasks: list[Task],
) -> None:
    # A key and an endpoint, but no request to upload and no tracing; then an explicit opt-out despite tracing.
    langsmith_env.setenv("LANGSMITH_API_KEY", API_KEY)
    _reread_environment()
    assert publish_to_langsmith(tmp_path, _config(), tasks, _results(tasks), catalog=catalog) is None
    langsmith_env.setenv("LANGSMITH_TRACING", "true")
    langsmith_env.setenv(UPLOAD_VARIABLE, "false")
    _reread_environment()
    assert publish_to_langsmith(tmp_path, _config(), tasks, _results(tasks), catalog=catalog) is None
    assert fake_langsmith.bodies == []
