"""The evidence bundle: kinds from shapes, summaries and facts that name resources and values, anomalies in time
series, stable ids, provenance, redaction (environment variables, secret values, passwords in URLs), and the
token budget on huge outputs."""

from __future__ import annotations

import json
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cloudinspect.catalog.loader import builtin_catalog_dir, load_prompt_file
from cloudinspect.troubleshoot.evidence import (
    DATA_LEFT_OUT,
    build_bundle,
    bundle_to_json,
    bundle_to_markdown,
    estimate_tokens,
    render_item,
)
from cloudinspect.troubleshoot.types import (
    EvidenceBundle,
    EvidenceItem,
    InspectionOutcome,
    PlannedInspection,
    ProblemStatement,
)

CANARY = "canary-EXAMPLE-not-a-secret-7f3a"
FINISHED = datetime(2026, 11, 25, 9, 58, tzinfo=UTC)
START = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)
PROBLEM = ProblemStatement(
    text="Our order processor Lambda keeps timing out since yesterday.",
    summary="order-processor times out",
    symptoms=["timeouts"],
    services=["lambda"],
    resources=["order-processor"],
)


def outcome(n: int, prompt_id: str, output: Any, *, status: str = "passed", error: str = "") -> InspectionOutcome:
    return InspectionOutcome(
        inspection=PlannedInspection(id=f"i{n}", prompt_id=prompt_id, variables={"hours": 24}),
        status=status,
        run_id=f"run-{n}",
        model_id="replay:lead",
        output=output,
        error=error,
        code_sha256="0123456789abcdef" * 4,
        api_calls=["lambda:ListFunctions", "cloudwatch:GetMetricStatistics", "lambda:ListFunctions"],
        target="moto:fault-lambda-timeout",
        attempts=2,
        finished_at=FINISHED,
    )


def contract_checked(prompt_id: str, output: Any) -> tuple[Any, str]:
    """`output` after checking it against the catalogue prompt's contract (so that the shapes stay real), and the
    prompt's title."""
    service = prompt_id.split("-", maxsplit=1)[0]
    prompt = load_prompt_file(builtin_catalog_dir() / "aws" / service / f"{prompt_id}.yaml")
    assert prompt.contract.validate_output(output) == []
    return output, prompt.title


def seeded(seed: int) -> random.Random:
    return random.Random(seed)  # noqa: S311 - test data, not cryptography


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def one(output: Any, prompt_id: str = "some-prompt", **kwargs: Any) -> EvidenceItem:
    return build_bundle(PROBLEM, [outcome(1, prompt_id, output)], **kwargs).items[0]


NEAR_TIMEOUT = {
    "functions": [
        {"name": "order-processor", "timeout_s": 30, "max_duration_ms": 30000.0, "percent_of_timeout": 100.0},
        {"name": "invoice-render", "timeout_s": 60, "max_duration_ms": 51000.0, "percent_of_timeout": 85.0},
        {"name": "thumbnailer", "timeout_s": 10, "max_duration_ms": 4200.0, "percent_of_timeout": 42.0},
    ]
}
CPU = {
    "instances": [
        {
            "instance_id": f"i-0{n:016x}",
            "instance_type": "m5.large",
            "name": f"web-{n}",
            "average_cpu_percent": 97.5 if n == 3 else 20.0 + n,
            "max_cpu_percent": 100.0 if n == 3 else 35.0 + n,
            "status": "hot" if n == 3 else "normal",
        }
        for n in range(10)
    ],
    "counts": {"hot": 1, "idle": 0, "normal": 9, "no_data": 0},
}
TIMEOUTS = {
    "functions": [{"function": "order-processor", "timeouts": 37, "timeout_s": 30, "streams": 5}],
    "total_timeouts": 37,
    "log_groups_examined": 9,
}
INVENTORY = {
    "functions": [
        {
            "name": f"svc-{n:02d}",
            "runtime": "python3.12" if n % 3 else "nodejs20.x",
            "memory_mb": 3008 if n == 7 else 256,
            "timeout_s": 30,
            "env_var_count": n % 4,
        }
        for n in range(15)
    ],
    "count": 15,
}


def flat_with_spike() -> dict[str, Any]:
    """CPU flat at 30 for a day, at 100 from 10:00 to 12:00."""
    return {
        "datapoints": [
            {"timestamp": iso(START + timedelta(hours=h)), "value": 100.0 if 10 <= h <= 12 else 30.0} for h in range(24)
        ]
    }


# ---------------------------------------------------------------------------------------------------------------
# Kinds, summaries, facts
# ---------------------------------------------------------------------------------------------------------------


def test_functions_near_their_timeout_are_named_with_their_share() -> None:
    output, title = contract_checked("lambda-duration-near-timeout", NEAR_TIMEOUT)
    bundle = build_bundle(
        PROBLEM,
        [outcome(1, "lambda-duration-near-timeout", output)],
        titles={"lambda-duration-near-timeout": title},
    )
    item = bundle.items[0]
    assert (item.id, item.kind, item.title) == ("E1", "table", title)
    assert item.summary.startswith("3 functions (columns: name, timeout_s, max_duration_ms, percent_of_timeout).")
    assert "2 with percent_of_timeout at or above 80: order-processor (100.0), invoice-render (85.0)." in item.summary
    assert "percent_of_timeout min 42.0, median 85.0, max 100.0 (order-processor)" in item.summary
    assert item.facts[0] == "order-processor: percent_of_timeout 100.0 >= 80 (timeout_s 30, max_duration_ms 30000.0)"
    assert item.facts[1].startswith("invoice-render: percent_of_timeout 85.0 >= 80")
    assert not any("thumbnailer" in fact for fact in item.facts)
    assert item.data == output
    assert not item.reduced


def test_the_hot_instance_is_named_by_id_and_name() -> None:
    output, _ = contract_checked("cloudwatch-ec2-cpu-utilization", CPU)
    item = one(output)
    hot = f"i-0{3:016x} (web-3)"
    assert item.kind == "table"
    assert item.facts[0].startswith(f"{hot}: ")
    assert "max_cpu_percent 100.0 >= 80; status = hot (1 of 10)" in item.facts[0]
    assert "counts: hot 1, idle 0, normal 9, no_data 0." in item.summary
    assert "status: normal 9, hot 1." in item.summary


def test_a_single_row_is_a_fact_with_all_its_values() -> None:
    output, _ = contract_checked("logs-lambda-timeouts", TIMEOUTS)
    item = one(output)
    assert item.summary.startswith("1 function (columns: function, timeouts, timeout_s, streams).")
    assert "total_timeouts: 37; log_groups_examined: 9." in item.summary
    assert item.facts == ["order-processor: timeouts 37, timeout_s 30, streams 5"]


def test_an_outlying_value_is_a_fact() -> None:
    output, _ = contract_checked("lambda-functions-inventory", INVENTORY)
    item = one(output)
    assert "memory_mb min 256, median 256, max 3008 (svc-07)" in item.summary
    assert "timeout_s 30 for all" in item.summary
    assert item.facts == [
        "svc-07: memory_mb 3008 stands out (median 256) (runtime python3.12, timeout_s 30, env_var_count 3)"
    ]


def test_a_rare_flag_is_a_fact() -> None:
    volumes = {"volumes": [{"volume_id": f"vol-{n:04d}", "encrypted": n != 4, "size_gb": 100} for n in range(12)]}
    item = one(volumes)
    assert "encrypted true for 11 of 12." in item.summary
    assert item.facts == ["vol-0004: encrypted = false (1 of 12) (size_gb 100)"]


def test_a_sustained_anomaly_is_reported_with_its_hours() -> None:
    item = one(flat_with_spike())
    assert item.kind == "timeseries"
    assert item.summary.startswith(
        "24 points of value from 2026-11-24T00:00:00Z to 2026-11-24T23:00:00Z; min 30.0, mean 38.75, median 30.0,"
    )
    assert "3 anomalous points" in item.summary
    assert item.facts[0] == (
        "value above 33.0 for 3 consecutive points from 2026-11-24T10:00:00Z to 2026-11-24T12:00:00Z: 100.0"
        " (median 30.0)"
    )


def test_a_noisy_series_reports_its_spike_and_trend() -> None:
    rng = seeded(7)
    points = [
        {
            "Timestamp": iso(START + timedelta(minutes=5 * n)),
            "Average": 20 + n * 0.2 + rng.uniform(-1, 1),
            "Unit": "Percent",
        }
        for n in range(120)
    ]
    points[60]["Average"] = 95.0
    # CloudWatch returns datapoints in no particular order.
    rng.shuffle(points)
    item = one({"Label": "CPUUtilization", "Datapoints": points})
    assert item.kind == "timeseries"
    assert item.summary.startswith("120 points of Average from 2026-11-24T00:00:00Z to 2026-11-24T09:55:00Z")
    assert "Trend: rising" in item.summary
    assert "Label: CPUUtilization." in item.summary
    assert "spike of Average to 95.0 at 2026-11-24T05:00:00Z" in item.facts[0]
    assert any(fact.startswith("Average rising: median") for fact in item.facts)


def test_several_series_name_the_one_with_anomalies() -> None:
    hours = [START + timedelta(hours=h) for h in range(48)]
    get_metric_data = {
        "MetricDataResults": [
            {"Id": "m1", "Label": "web-1", "Timestamps": [iso(t) for t in hours], "Values": [12.0] * 48},
            {
                "Id": "m2",
                "Label": "worker-2",
                "Timestamps": [int(t.timestamp() * 1000) for t in hours],
                "Values": [12.0] * 40 + [99.0] * 8,
            },
        ]
    }
    item = one(get_metric_data)
    assert item.kind == "timeseries"
    assert item.summary.startswith(
        "2 series (web-1, worker-2), 96 points from 2026-11-24T00:00:00Z to 2026-11-25T23:00:00Z."
    )
    assert "1 with anomalies: worker-2 (8 points, max 99.0)." in item.summary
    assert item.facts[0].startswith("worker-2: Values above 13.2 for 8 consecutive points from 2026-11-25T16:00:00Z")
    by_name = {"i-1": [{"t": iso(t), "value": 1.0} for t in hours], "i-2": [{"t": iso(t), "value": 2.0} for t in hours]}
    assert one(by_name).kind == "timeseries"


@pytest.mark.parametrize(
    ("output", "kind", "summary"),
    [
        (
            {"policy": {"MinimumPasswordLength": 8}, "users": ["a"], "checks": {"a": [1]}},
            "object",
            "An object with 3 keys",
        ),
        (42, "scalar", "The inspection printed a single value: 42."),
        (None, "scalar", "The inspection printed a single value: null."),
        ("line one\nERROR Task timed out after 30.03 seconds\n", "text", "Text of 2 lines"),
        ({"functions": [], "count": 0}, "table", "No functions (0 rows). count: 0."),
        ([], "table", "No rows (0 rows)."),
        (["a", "b"], "object", "A list of 2 items (2 str): a, b."),
        ({"instances": [{"id": "i-1"}], "volumes": [{"id": "vol-1"}]}, "object", "An object with 2 keys"),
    ],
)
def test_kinds_follow_the_shape(output: Any, kind: str, summary: str) -> None:
    item = one(output)
    assert item.kind == kind
    assert item.summary.startswith(summary)


def test_text_facts_are_its_error_lines() -> None:
    item = one("START\nERROR Task timed out after 30.03 seconds\nEND\n")
    assert item.facts == ["Line: ERROR Task timed out after 30.03 seconds"]


def test_a_failed_inspection_says_what_failed_and_keeps_no_data() -> None:
    failed = outcome(
        1,
        "logs-lambda-timeouts",
        {"functions": "not what the contract says"},
        status="stuck",
        error="botocore.exceptions.ClientError: An error occurred (AccessDeniedException) when calling FilterLogEvents",
    )
    item = build_bundle(PROBLEM, [failed]).items[0]
    assert item.kind == "error"
    assert item.summary == (
        "The inspection failed (status stuck after 2 attempts): botocore.exceptions.ClientError: An error occurred "
        "(AccessDeniedException) when calling FilterLogEvents. Its last output was not accepted, so it is not used "
        "as evidence."
    )
    assert item.data is None
    assert item.facts == []


# ---------------------------------------------------------------------------------------------------------------
# Ids, provenance, rendering, determinism
# ---------------------------------------------------------------------------------------------------------------


def mixed_outcomes() -> list[InspectionOutcome]:
    return [
        outcome(1, "lambda-duration-near-timeout", NEAR_TIMEOUT),
        outcome(2, "cloudwatch-metric", flat_with_spike()),
        outcome(3, "logs-lambda-timeouts", None, status="error", error="provider failed"),
        outcome(4, "lambda-functions-inventory", INVENTORY),
    ]


def test_ids_follow_the_outcomes_and_the_bundle_is_deterministic() -> None:
    first = build_bundle(PROBLEM, mixed_outcomes())
    second = build_bundle(PROBLEM, mixed_outcomes())
    assert [item.id for item in first.items] == ["E1", "E2", "E3", "E4"]
    assert bundle_to_json(first) == bundle_to_json(second)
    assert bundle_to_markdown(first) == bundle_to_markdown(second)
    assert {"E1", "E1.1", "E1.2", "E2.1", "E3", "E4.1"} <= first.ids()
    assert EvidenceBundle.model_validate_json(bundle_to_json(first)) == first


def test_provenance_comes_from_the_outcome() -> None:
    item = build_bundle(PROBLEM, mixed_outcomes()).items[0]
    provenance = item.provenance
    assert (provenance.inspection_id, provenance.prompt_id, provenance.run_id) == (
        "i1",
        "lambda-duration-near-timeout",
        "run-1",
    )
    assert provenance.api_calls == ["lambda:ListFunctions", "cloudwatch:GetMetricStatistics"]
    assert (provenance.collected_at, provenance.target) == (FINISHED, "moto:fault-lambda-timeout")
    assert (provenance.model_id, provenance.code_sha256) == ("replay:lead", "0123456789abcdef" * 4)


def test_markdown_has_problem_provenance_numbered_facts_and_data() -> None:
    bundle = build_bundle(PROBLEM, mixed_outcomes(), titles={"lambda-duration-near-timeout": "Near the timeout"})
    markdown = bundle_to_markdown(bundle)
    assert markdown.startswith(
        "# Evidence\n\n## Problem\n\n> Our order processor Lambda keeps timing out since yesterday."
    )
    assert "- Resources: order-processor\n" in markdown
    item = render_item(bundle.items[0])
    assert item.startswith(
        "### E1 — Near the timeout\n\nSource: prompt `lambda-duration-near-timeout` (inspection i1) · API calls: "
        "lambda:ListFunctions, cloudwatch:GetMetricStatistics · collected 2026-11-25T09:58:00Z.\n\n3 functions"
    )
    assert "- E1.1: order-processor: percent_of_timeout 100.0 >= 80" in item
    assert (
        "| name | timeout_s | max_duration_ms | percent_of_timeout |\n|---|---|---|---|\n| order-processor | 30 |"
        in item
    )
    assert "### E2 — cloudwatch-metric\n" in markdown
    assert '```json\n{"datapoints":[' in markdown
    assert item in markdown
    assert bundle.tokens == estimate_tokens(markdown)
    assert [i.tokens for i in bundle.items] == [estimate_tokens(render_item(i)) for i in bundle.items]


# ---------------------------------------------------------------------------------------------------------------
# Redaction
# ---------------------------------------------------------------------------------------------------------------


def test_no_secret_reaches_the_bundle() -> None:
    lambda_functions = {
        "Functions": [
            {
                "FunctionName": "payments",
                "Environment": {"Variables": {"STRIPE_WEBHOOK": CANARY, "LOG_LEVEL": "debug"}},
            }
        ]
    }
    task_definition = {
        "taskDefinition": {
            "family": "api",
            "containerDefinitions": [
                {"name": "app", "environment": [{"name": "CONFIG_BLOB", "value": CANARY}], "image": "api:latest"}
            ],
        }
    }
    secret = {"Name": "prod/db", "SecretString": json.dumps({"password": CANARY})}
    urls = {
        "targets": [{"name": "db", "url": f"postgres://app:{CANARY}@db.internal:5432/orders", "environment": "prod"}]
    }
    text = f"connecting to https://admin:{CANARY}@example.com/\nERROR DB_PASSWORD={CANARY}\n"
    bundle = build_bundle(
        ProblemStatement(text=f"it fails since I set password={CANARY}"),
        [
            outcome(1, "lambda-functions", lambda_functions),
            outcome(2, "ecs-task-definition", task_definition),
            outcome(3, "secret", secret),
            outcome(4, "db-targets", urls),
            outcome(5, "logs", text),
            outcome(6, "failing", None, status="failed", error=f"ValueError: password={CANARY}"),
        ],
    )
    markdown, as_json = bundle_to_markdown(bundle), bundle_to_json(bundle)
    assert CANARY not in markdown
    assert CANARY not in as_json
    assert bundle.redactions >= 8
    # Names of variables and ordinary values stay readable.
    assert all(name in as_json for name in ("STRIPE_WEBHOOK", "CONFIG_BLOB", "LOG_LEVEL"))
    assert bundle.items[3].data["targets"][0]["environment"] == "prod"
    assert "[REDACTED:env-var]" in markdown


def test_a_large_output_is_redacted_before_it_is_summarised() -> None:
    rows = [{"user": f"user-{n}", "password": f"{CANARY}-{n}", "mfa": True} for n in range(3000)]
    bundle = build_bundle(PROBLEM, [outcome(1, "users", {"users": rows})], token_budget=2000)
    assert "EXAMPLE-not-a-secret" not in bundle_to_markdown(bundle) + bundle_to_json(bundle)
    assert bundle.redactions == 3000


# ---------------------------------------------------------------------------------------------------------------
# Token budget
# ---------------------------------------------------------------------------------------------------------------


def huge_table(rows: int = 10_000, flagged: int = 7777) -> dict[str, Any]:
    rng = seeded(3)
    functions = [
        {
            "name": f"fn-{n:05d}",
            "timeout_s": rng.choice([3, 30, 60, 900]),
            "max_duration_ms": round(rng.uniform(10, 2000), 2),
            "percent_of_timeout": round(rng.uniform(0, 60), 2),
        }
        for n in range(rows)
    ]
    functions[flagged]["percent_of_timeout"] = 100.0
    return {"functions": functions}


def huge_series(points: int = 50_000) -> dict[str, Any]:
    rng = seeded(4)
    return {
        "datapoints": [
            {
                "timestamp": iso(START + timedelta(minutes=n)),
                "value": 98.0 if 30_000 <= n < 30_090 else round(rng.gauss(40, 4), 2),
            }
            for n in range(points)
        ]
    }


def test_a_huge_table_is_cut_to_the_budget_quickly_and_keeps_its_flagged_row() -> None:
    output = huge_table()
    started = time.process_time()
    bundle = build_bundle(PROBLEM, [outcome(1, "lambda-duration-near-timeout", output)], token_budget=6000)
    elapsed = time.process_time() - started
    assert elapsed < 1.0
    assert estimate_tokens(bundle_to_markdown(bundle)) == bundle.tokens <= 6000
    item = bundle.items[0]
    assert item.reduced
    assert (item.data["reduction"], item.data["rows_total"]) == ("table", 10_000)
    assert "fn-07777" in {row["name"] for row in item.data["rows"]}
    assert item.facts[0].startswith("fn-07777: percent_of_timeout 100.0 >= 80")
    assert item.data["note"].startswith(f"{len(item.data['rows'])} of 10000 functions: the first ")


def test_a_huge_series_is_reduced_to_statistics_and_anomalies_quickly() -> None:
    output = huge_series()
    started = time.process_time()
    bundle = build_bundle(PROBLEM, [outcome(1, "cloudwatch-metric", output)], token_budget=6000)
    elapsed = time.process_time() - started
    assert elapsed < 1.0
    assert bundle.tokens <= 6000
    item = bundle.items[0]
    assert item.reduced
    assert (item.data["reduction"], item.data["points_total"]) == ("timeseries", 50_000)
    series = item.data["series"][0]
    assert (series["points"], series["max"]) == (50_000, 98.0)
    assert series["anomalies"][0] == {
        "from": "2026-12-14T20:00:00Z",
        "to": "2026-12-14T21:29:00Z",
        "points": 90,
        "min": 98.0,
        "max": 98.0,
    }
    assert "for 90 consecutive points from 2026-12-14T20:00:00Z to 2026-12-14T21:29:00Z: 98.0" in item.facts[0]
    # The noise's lone points past the band are counted in the summary, not made facts.
    assert len(item.facts) == 1


def test_the_least_informative_data_is_dropped_first_and_summaries_stay() -> None:
    outcomes = [
        outcome(1, "big", huge_table(400, flagged=200)),
        outcome(2, "nothing", {"functions": [], "count": 0, "regions_checked": 17, "log_groups_examined": 240}),
        outcome(3, "lines", "a line of text\n" * 3),
        outcome(4, "broken", None, status="error", error="boom"),
    ]
    seen = set()
    for budget in range(1000, 1120, 4):
        bundle = build_bundle(PROBLEM, outcomes, token_budget=budget)
        assert bundle.tokens <= budget
        # The empty table goes first, then the text, the table last; the error has no data to drop.
        assert bundle.dropped in ([], ["E2"], ["E2", "E3"], ["E1", "E2", "E3"])
        assert all(item.summary for item in bundle.items)
        for item in bundle.items:
            assert (DATA_LEFT_OUT in render_item(item)) == (item.id in bundle.dropped)
        seen.add(tuple(bundle.dropped))
    assert seen == {(), ("E2",), ("E2", "E3"), ("E1", "E2", "E3")}


def random_output(rng: random.Random) -> Any:
    shape = rng.choice(["table", "series", "object", "text", "scalar", "error"])
    size = rng.choice([0, 1, 5, 50, 500, 3000])
    if shape == "table":
        return {
            "items": [
                {
                    "id": f"r-{n}",
                    "value": rng.uniform(0, 100),
                    "flag": rng.random() < 0.1,
                    "note": "x" * rng.randint(0, 80),
                }
                for n in range(size)
            ],
            "count": size,
        }
    if shape == "series":
        return [{"timestamp": iso(START + timedelta(minutes=n)), "value": rng.gauss(50, 10)} for n in range(size + 1)]
    if shape == "object":
        return {f"key{n}": {"nested": ["v" * rng.randint(1, 200)] * rng.randint(0, 30)} for n in range(size // 10 + 1)}
    if shape == "text":
        return "\n".join(f"line {n} " + "word " * rng.randint(0, 40) for n in range(size))
    if shape == "scalar":
        return rng.uniform(-1e6, 1e6)
    return None


@pytest.mark.parametrize("seed", range(16))
def test_any_outputs_fit_any_budget(seed: int) -> None:
    rng = seeded(seed)
    budget = rng.choice([500, 800, 1500, 3000, 6000, 20000]) if seed < 6 else rng.randint(500, 20000)
    outcomes = []
    # As many items as the budget's floor allows (the problem, then about 160 tokens per item: see `evidence`).
    for n in range(1, rng.randint(1, max(1, min(6, (budget - 200) // 170))) + 1):
        output = random_output(rng)
        failed = output is None and rng.random() < 0.5
        status, error = ("failed", "Traceback: " + "x" * rng.randint(0, 2000)) if failed else ("passed", "")
        outcomes.append(outcome(n, f"prompt-{n}", output, status=status, error=error))
    bundle = build_bundle(PROBLEM, outcomes, token_budget=budget)
    markdown = bundle_to_markdown(bundle)
    assert estimate_tokens(markdown) == bundle.tokens <= budget
    assert [item.id for item in bundle.items] == [f"E{n}" for n in range(1, len(outcomes) + 1)]
    assert all(item.summary for item in bundle.items)


# ---------------------------------------------------------------------------------------------------------------
# The estimate
# ---------------------------------------------------------------------------------------------------------------


def test_the_estimate_is_additive_and_weighs_digits_and_punctuation() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("1234567890") > estimate_tokens("abcdefghij")
    assert estimate_tokens('{"a":[1,2]}') > estimate_tokens("a b c d e f")
    rng = seeded(5)
    alphabet = 'abcXYZ019 {}[]":,\n\t|é—'
    for _ in range(200):
        a = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 50)))
        b = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 50)))
        assert estimate_tokens(a + b) <= estimate_tokens(a) + estimate_tokens(b)
        assert estimate_tokens(a + b) >= max(estimate_tokens(a), estimate_tokens(b))


def test_the_estimate_is_fast_on_a_megabyte() -> None:
    text = json.dumps(huge_table(20_000))
    started = time.process_time()
    tokens = estimate_tokens(text)
    assert time.process_time() - started < 0.1
    # Evidence JSON runs 2 to 2.7 characters per token with the measured tokenizers.
    assert len(text) / 2.2 < tokens < len(text) / 1.2


def test_under_its_floor_a_bundle_is_as_small_as_it_gets_and_says_so() -> None:
    outcomes = [outcome(n, f"prompt-{n}", huge_table(50, flagged=n)) for n in range(1, 13)]
    bundle = build_bundle(PROBLEM, outcomes, token_budget=500)
    assert bundle.tokens > bundle.token_budget
    assert bundle.dropped == [f"E{n}" for n in range(1, 13)]
    assert all(item.summary and not item.facts for item in bundle.items)
