"""A synthetic benchmark for the reports' tests: three models (two paid, one free), four tasks over three
services, failures of several classes, and code that would break a page if it were not escaped."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cloudinspect.bench.metrics import summarize
from cloudinspect.bench.types import BenchConfig, BenchSummary, Cell, CellResult, ScenarioGrade, Task
from cloudinspect.loop.state import Attempt, AttemptErrorClass, FindingRecord, Usage, Verdict
from cloudinspect.sandbox.result import ExecResult

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
MODELS = ["gpt-test", "claude-test", "smollm2-135m"]
SCENARIOS = ["baseline", "startup"]
TASKS = [
    Task(prompt_id="ec2-instances-missing-tags", service="ec2", category="configuration", scenarios=SCENARIOS),
    Task(prompt_id="lambda-error-rate", service="lambda", category="metrics", scenarios=SCENARIOS),
    Task(prompt_id="s3-public-buckets", service="s3", category="security", scenarios=SCENARIOS),
    Task(prompt_id="s3-largest-buckets", service="s3", category="resources", scenarios=SCENARIOS),
]
HOSTILE_CODE = (
    "import boto3\n"
    "# </pre><script>alert('pwned')</script>\n"
    "ok = True && False  # <b>bold</b> & 'quotes'\n"
    "print('{\"buckets\": []}')\n"
)
HUGE_STDOUT = "x" * 50_000


@dataclass
class Bench:
    """A benchmark's summary, cells and attempts (keyed by run id), as write_reports takes them."""

    config: BenchConfig
    summary: BenchSummary
    results: list[CellResult]
    attempts: dict[str, list[Attempt]] = field(default_factory=dict)


def make_attempt(
    n: int, error_class: AttemptErrorClass, *, cost_usd: float, code: str = HOSTILE_CODE, stdout: str = ""
) -> Attempt:
    """Attempt n: passed when `error_class` is 'none', otherwise failed in the way the class says."""
    started = T0 + timedelta(seconds=10 * n)
    passed = error_class == "none"
    executed = error_class not in ("syntax", "review", "generation")
    result = ExecResult(
        status="ok"
        if error_class in ("none", "wrong_output")
        else ("timeout" if error_class == "timeout" else "error"),
        exit_code=0 if error_class in ("none", "wrong_output") else 1,
        stdout=stdout or '{"buckets": ["acme-logs"]}',
        stderr="Traceback <module> & friends" if error_class == "runtime" else "",
        duration_ms=321.5,
        error_class="none" if error_class in ("none", "wrong_output") else error_class,
        error_message=None if passed else f"{error_class}: it went <wrong> & stayed wrong",
    )
    findings = (
        [
            FindingRecord(
                check="api",
                rule="api.unknown-operation",
                severity="error",
                message="s3 has no operation 'list_all_buckets' <did you mean list_buckets?>",
                line=2,
                suggestion="list_buckets",
            )
        ]
        if error_class == "hallucinated_api"
        else []
    )
    return Attempt(
        n=n,
        code=code,
        diff=""
        if n == 1
        else f"--- attempt {n - 1}\n+++ attempt {n}\n@@ -1 +1 @@\n-print(<old>)\n+print('<new> & more')\n",
        findings=findings,
        review_ok=not findings,
        exec_result=result.model_dump(mode="json") if executed else None,
        verdict=Verdict(
            passed=passed,
            compared=True,
            differences=[] if passed else ["buckets[0]: 'a<b>' missing", "buckets: 2 extra"],
            difference_count=0 if passed else 2,
            summary="matches" if passed else "2 differences",
        )
        if executed
        else None,
        error_class=error_class,
        error_message="" if passed else f"{error_class} <in> attempt {n}",
        feedback="" if passed else f"Attempt {n} failed: fix the <call> & retry",
        usage=Usage(tokens_in=1000, tokens_out=300, cost_usd=cost_usd, latency_ms=800.0 + 100 * n, replies=1),
        duration_ms=1500.0 + n,
        started_at=started,
        finished_at=started + timedelta(seconds=2),
    )


# model -> prompt -> the attempts' classes (the last decides), and whether the held-out scenario failed
OUTCOMES: dict[str, dict[str, list[AttemptErrorClass]]] = {
    "gpt-test": {
        "ec2-instances-missing-tags": ["none"],
        "lambda-error-rate": ["wrong_output", "none"],
        "s3-public-buckets": ["none"],
        "s3-largest-buckets": ["none"],
    },
    "claude-test": {
        "ec2-instances-missing-tags": ["none"],
        "lambda-error-rate": ["none"],  # passes on baseline, fails on startup (held out)
        "s3-public-buckets": ["runtime", "none"],
        "s3-largest-buckets": ["none"],
    },
    "smollm2-135m": {
        "ec2-instances-missing-tags": ["timeout", "timeout", "timeout"],
        "lambda-error-rate": ["syntax", "syntax"],
        "s3-public-buckets": ["hallucinated_api", "hallucinated_api", "hallucinated_api"],
        "s3-largest-buckets": ["runtime", "wrong_output", "runtime"],
    },
}
PRICES = {"gpt-test": 0.004, "claude-test": 0.012, "smollm2-135m": 0.0}


def make_cell(
    model: str, prompt: str, classes: list[AttemptErrorClass], *, held_out_fails: bool = False
) -> tuple[CellResult, list[Attempt]]:
    """One cell with its attempts, as the runner would record it."""
    run_id = f"run-{model}-{prompt}"
    stdout = HUGE_STDOUT if (model, prompt) == ("smollm2-135m", "s3-largest-buckets") else ""
    attempts = [make_attempt(n, cls, cost_usd=PRICES[model], stdout=stdout) for n, cls in enumerate(classes, start=1)]
    loop_passed = classes[-1] == "none"
    solved = loop_passed and not held_out_fails
    status = "solved" if solved else ("stuck" if classes[-1] == "syntax" else "failed")
    failure = "none" if solved else ("wrong_output" if loop_passed else classes[-1])
    grades = [ScenarioGrade(scenario="baseline", passed=loop_passed, error_class="none" if loop_passed else failure)]
    if loop_passed:
        grades.append(
            ScenarioGrade(
                scenario="startup",
                passed=not held_out_fails,
                error_class="wrong_output" if held_out_fails else "none",
                detail="functions: 1 missing <daily-digest>" if held_out_fails else "",
            )
        )
    result = CellResult(
        cell=Cell(model_id=model, prompt_id=prompt, repeat=0),
        status=status,
        solved=solved,
        run_id=run_id,
        attempts=len(attempts),
        passed_at=len(attempts) if solved else None,
        attempt_error_classes=list(classes),
        failure_class=failure,
        grades=grades,
        tokens_in=1000 * len(attempts),
        tokens_out=300 * len(attempts),
        cost_usd=PRICES[model] * len(attempts),
        duration_ms=2000.0 * len(attempts),
        attempt_latencies_ms=[a.usage.latency_ms for a in attempts],
        api_calls=4 * len(attempts),
        hallucinated_calls=2 if "hallucinated_api" in classes else 0,
        reason="" if solved else "the <script> did not pass & gave up",
        started_at=T0,
        finished_at=T0 + timedelta(seconds=len(attempts) * 2),
    )
    return result, attempts


def make_bench(
    outcomes: dict[str, dict[str, list[AttemptErrorClass]]] | None = None,
    *,
    held_out: frozenset[tuple[str, str]] = frozenset({("claude-test", "lambda-error-rate")}),
    skip: frozenset[tuple[str, str]] = frozenset(),
) -> Bench:
    """The whole synthetic benchmark (cells in `skip` left out: an incomplete benchmark)."""
    outcomes = outcomes if outcomes is not None else OUTCOMES
    config = BenchConfig(
        models=list(outcomes), prompts=[t.prompt_id for t in TASKS], scenarios=SCENARIOS, max_attempts=3
    )
    results: list[CellResult] = []
    attempts: dict[str, list[Attempt]] = {}
    for model, prompts in outcomes.items():
        for prompt, classes in prompts.items():
            if (model, prompt) in skip:
                continue
            result, tried = make_cell(model, prompt, classes, held_out_fails=(model, prompt) in held_out)
            results.append(result)
            attempts[result.run_id or ""] = tried
    return Bench(config, summarize(config, TASKS, results), results, attempts)
