"""Deterministic retrieval for the planner: the user's words as a problem statement, and the catalogue prompts that
best fit it.

No model is involved here. `parse_problem` is the fallback of the `understand` step (a keyword parse of the text);
`shortlist` scores every catalogue prompt against a `ProblemStatement` and gives the planner model a short list to
choose from (and the fallback plan when its reply is unusable). Scoring, in points:

- services: +4 when the prompt's first (primary) service is one of the problem's, +2 for each other shared service;
- words: +2 for each problem word (keywords, symptoms, summary, text; stemmed, stop words and service names out)
  in the prompt's id, title or tags, +0.5 for each in its description only;
- category: +1.5 when the problem's symptoms point at the prompt's category (slow/timeout -> metrics, logs;
  public/open/encryption -> security; bill -> cost...).

Ties are broken by id, so the same problem always gives the same list.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cloudinspect.catalog.schema import InspectionPrompt, Variable, VarType
from cloudinspect.troubleshoot.types import ProblemStatement

_WORD = re.compile(r"[a-z0-9]+")
_RESOURCE = re.compile(r"\b(?:[a-z0-9]+(?:[-_.][a-z0-9]+)+|(?:i|sg|vol|subnet|vpc|arn)-[0-9a-f]{4,})\b", re.IGNORECASE)

# fmt: off
STOP_WORDS = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "been", "but", "by", "can", "could", "do", "does", "for", "from",
    "has", "have", "how", "i", "in", "into", "is", "it", "its", "keeps", "keep", "me", "my", "no", "not", "of",
    "on", "or", "our", "out", "since", "so", "some", "that", "the", "their", "them", "then", "there", "these",
    "they", "this", "to", "up", "us", "was", "we", "were", "what", "when", "where", "which", "while", "who", "why",
    "will", "with", "would", "you", "your", "yesterday", "today", "ago", "hours", "hour", "days", "day", "last",
    "please", "help", "something", "anything", "all", "any", "also", "just", "about", "after", "before", "still",
    "started", "starting", "seems", "seem", "looks", "look", "going", "getting", "get", "got", "ever", "now",
    "every", "lot", "lots"
})
# fmt: on

SERVICE_WORDS: dict[str, str] = {
    "lambda": "lambda",
    "function": "lambda",
    "functions": "lambda",
    "serverless": "lambda",
    "s3": "s3",
    "download": "s3",
    "downloads": "s3",
    "upload": "s3",
    "uploads": "s3",
    "export": "s3",
    "exports": "s3",
    "website": "elbv2",
    "503": "elbv2",
    "502": "elbv2",
    "bucket": "s3",
    "buckets": "s3",
    "ec2": "ec2",
    "instance": "ec2",
    "instances": "ec2",
    "server": "ec2",
    "servers": "ec2",
    "vm": "ec2",
    "ebs": "ec2",
    "volume": "ec2",
    "volumes": "ec2",
    "ssh": "ec2",
    "rdp": "ec2",
    "vpc": "ec2",
    "sqs": "sqs",
    "queue": "sqs",
    "queues": "sqs",
    "dlq": "sqs",
    "dynamodb": "dynamodb",
    "dynamo": "dynamodb",
    "table": "dynamodb",
    "tables": "dynamodb",
    "alb": "elbv2",
    "elb": "elbv2",
    "nlb": "elbv2",
    "elbv2": "elbv2",
    "balancer": "elbv2",
    "iam": "iam",
    "permission": "iam",
    "permissions": "iam",
    "role": "iam",
    "roles": "iam",
    "credential": "iam",
    "credentials": "iam",
    "rds": "rds",
    "database": "rds",
    "databases": "rds",
    "postgres": "rds",
    "postgresql": "rds",
    "mysql": "rds",
    "aurora": "rds",
    "db": "rds",
    "cloudwatch": "cloudwatch",
    "alarm": "cloudwatch",
    "alarms": "cloudwatch",
    "metric": "cloudwatch",
    "metrics": "cloudwatch",
    "logs": "logs",
    "log": "logs",
    "sns": "sns",
    "topic": "sns",
    "topics": "sns",
    "kms": "kms",
    "ecs": "ecs",
    "container": "ecs",
    "containers": "ecs",
    "fargate": "ecs",
    "secret": "secretsmanager",
    "secrets": "secretsmanager",
    "secretsmanager": "secretsmanager",
    "ssm": "ssm",
    "parameter": "ssm",
    "parameters": "ssm",
}
"""Words of a problem that name (or strongly suggest) a service, by its botocore name."""

SERVICE_PHRASES: dict[str, str] = {
    "security group": "ec2",
    "full control": "iam",
    "message": "sqs",
    "load balancer": "elbv2",
    "target group": "elbv2",
    "access key": "iam",
    "dead letter": "sqs",
    "dead-letter": "sqs",
    "cloudwatch logs": "logs",
    "secrets manager": "secretsmanager",
    "parameter store": "ssm",
}

SERVICE_ALIASES: dict[str, str] = {
    "aws lambda": "lambda",
    "amazon s3": "s3",
    "cloudwatch logs": "logs",
    "cloudwatchlogs": "logs",
    "alb": "elbv2",
    "elb": "elbv2",
    "elasticloadbalancing": "elbv2",
    "elasticloadbalancingv2": "elbv2",
    "ebs": "ec2",
    "vpc": "ec2",
    "dynamo": "dynamodb",
    "secrets manager": "secretsmanager",
    "parameter store": "ssm",
    "monitoring": "cloudwatch",
}

SYNONYMS: dict[str, tuple[str, ...]] = {
    "timed": ("timeout",),
    "timing": ("timeout",),
    "slow": ("duration", "performance", "latency"),
    "latency": ("duration", "performance"),
    "hang": ("timeout",),
    "hanging": ("timeout",),
    "public": ("public-access", "exposure"),
    "exposed": ("exposure", "public-access"),
    "open": ("exposure", "open"),
    "internet": ("exposure", "public"),
    "world": ("exposure", "public"),
    "ssh": ("exposure", "sensitive", "ports", "open"),
    "rdp": ("exposure", "sensitive", "ports", "open"),
    "logins": ("exposure", "sensitive"),
    "reach": ("exposure", "open", "internet"),
    "anyone": ("exposure", "public", "internet"),
    "throttl": ("throttled", "capacity"),
    "throttle": ("throttled", "capacity"),
    "throttled": ("capacity",),
    "throttling": ("throttled", "capacity"),
    "cpu": ("cpu", "utilization", "hot"),
    "dlq": ("dead-letter",),
    "unhealthy": ("health",),
    "healthy": ("health",),
    "disk": ("storage",),
    "full": ("storage", "capacity"),
    "space": ("storage",),
    "encrypted": ("encryption",),
    "unencrypted": ("encryption",),
    "encrypt": ("encryption",),
    "key": ("credentials", "keys"),
    "keys": ("credentials",),
    "old": ("age",),
    "unused": ("age", "idle"),
    "admin": ("administrator", "least-privilege"),
    "error": ("errors",),
    "errors": ("error",),
    "failing": ("errors", "error"),
    "failed": ("errors", "error"),
    "fail": ("errors", "error"),
    "5xx": ("errors", "health"),
    "502": ("health", "errors"),
    "503": ("health", "errors"),
    "bill": ("cost",),
    "expensive": ("cost",),
    "spend": ("cost",),
    "backlog": ("dead-letter", "messages"),
    "stuck": ("cpu", "hot", "utilization"),
    "hangs": ("cpu", "hot", "timeout"),
    "control": ("administrator", "admin"),
    "forgotten": ("age", "unused", "keys"),
    "link": ("public-access", "public"),
    "sign": ("public-access",),
    "ledger": ("dead-letter", "messages"),
    "piling": ("backlog", "dead-letter"),
    "messages": ("messaging",),
}
"""Problem words -> catalogue words (titles, tags) they stand for."""

CATEGORY_HINTS: dict[str, tuple[str, ...]] = {
    "metrics": ("slow", "timeout", "timed", "latency", "cpu", "throttl", "throttled", "throttling", "storage",
                "full", "disk", "duration", "errors", "error"),
    "logs": ("timeout", "timed", "error", "errors", "exception", "crash", "failing", "failed", "traceback"),
    "security": ("public", "exposed", "open", "encryption", "encrypted", "unencrypted", "admin", "leak", "key",
                 "keys", "ssh", "internet", "breach", "audit", "compliance", "credentials"),
    "cost": ("cost", "bill", "expensive", "spend", "waste"),
    "resources": ("missing", "unhealthy", "backlog", "dead-letter", "dlq", "down", "capacity"),
}  # fmt: skip
"""Symptom words -> the catalogue category they point at."""

# fmt: off
SYMPTOM_WORDS = frozenset({
    "timeout", "timeouts", "timed", "slow", "latency", "errors", "error", "failing", "failed", "crash", "throttled",
    "throttling", "unhealthy", "public", "exposed", "open", "unencrypted", "full", "backlog", "expensive", "cpu",
    "5xx", "502", "503", "down", "old", "unused", "admin"
})
# fmt: on


def _stem(word: str) -> str:
    """A crude stem so that 'timeouts'/'timeout', 'buckets'/'bucket' meet; short words are left alone."""
    for suffix in ("ies", "es", "s"):
        if len(word) > 4 and word.endswith(suffix) and not word.endswith("ss"):
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def words_of(text: str) -> list[str]:
    """Content words of `text`: lower case, stop words out, in order, without repeats."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(text.lower()):
        if word not in STOP_WORDS and (len(word) > 2 or word.isdigit()):
            seen.setdefault(word, None)
    return list(seen)


def normalise_service(name: str) -> str | None:
    """A service as botocore names it ('AWS Lambda' -> 'lambda', 'ALB' -> 'elbv2'), or None when unknown."""
    key = name.strip().lower()
    key = re.sub(r"^(aws|amazon)\s+", "", key)
    if key in SERVICE_ALIASES:
        return SERVICE_ALIASES[key]
    compact = key.replace(" ", "").replace("-", "")
    if compact in SERVICE_ALIASES:
        return SERVICE_ALIASES[compact]
    if compact in set(SERVICE_WORDS.values()):
        return compact
    return SERVICE_WORDS.get(compact)


def services_in(text: str) -> list[str]:
    """Services the text names or suggests, in order of first mention."""
    lowered = text.lower()
    found: dict[str, int] = {}
    for phrase, service in SERVICE_PHRASES.items():
        at = lowered.find(phrase)
        if at >= 0:
            found.setdefault(service, at)
    for match in _WORD.finditer(lowered):
        named = SERVICE_WORDS.get(match.group())
        if named is not None:
            found[named] = min(found.get(named, match.start()), match.start())
    return sorted(found, key=lambda s: found[s])


def _window_hours(text: str) -> int:
    lowered = text.lower()
    match = re.search(r"(?:last|past)\s+(\d+)\s*(hour|hr|h|day|d|week|w)", lowered)
    if match:
        amount, unit = int(match.group(1)), match.group(2)[0]
        hours = amount * {"h": 1, "d": 24, "w": 24 * 7}[unit]
        return max(1, min(hours, 24 * 14))
    if "last week" in lowered or "since last week" in lowered:
        return 24 * 7
    if "yesterday" in lowered:
        return 48
    return 24


def parse_problem(text: str) -> ProblemStatement:
    """A problem statement from the user's words alone (the `understand` step's fallback): services from the
    words that name them, resource-like names (with dashes, ids), symptoms from a fixed vocabulary, the time
    window from 'last N hours/days' or 'yesterday'."""
    words = words_of(text)
    resources = list(dict.fromkeys(m.group() for m in _RESOURCE.finditer(text)))
    return ProblemStatement(
        text=text,
        summary=text.strip().splitlines()[0][:200] if text.strip() else "",
        symptoms=[w for w in words if w in SYMPTOM_WORDS],
        services=services_in(text),
        resources=resources,
        window_hours=_window_hours(text),
        keywords=[w for w in words if w not in SERVICE_WORDS][:20],
    )


def _expanded(words: Iterable[str]) -> set[str]:
    out: set[str] = set()
    for word in words:
        for part in re.split(r"[-_\s]+", word.lower()):
            if not part or part in STOP_WORDS:
                continue
            out.add(_stem(part))
            for synonym in SYNONYMS.get(part, ()):
                out.add(synonym)
                out.update(_stem(p) for p in synonym.split("-"))
    return out


def _prompt_words(prompt: InspectionPrompt) -> tuple[set[str], set[str]]:
    """(words of the id, title and tags; words of the description), stemmed."""
    strong = {_stem(w) for w in _WORD.findall(f"{prompt.id} {prompt.title}".lower())}
    for tag in prompt.tags:
        strong.add(tag)
        strong.update(_stem(w) for w in _WORD.findall(tag))
    weak = {_stem(w) for w in _WORD.findall(prompt.description.lower())}
    return strong - STOP_WORDS, weak - STOP_WORDS


@dataclass(frozen=True)
class Candidate:
    """A catalogue prompt on the shortlist: its score, why, and the variables it would run with."""

    prompt: InspectionPrompt
    score: float
    variables: dict[str, Any]
    matched: list[str] = field(default_factory=list)


def problem_words(problem: ProblemStatement) -> set[str]:
    """Every word of the problem the retrieval matches against prompts (stemmed, with synonyms), without the
    words that name services: services score on their own."""
    raw = [*problem.keywords, *problem.symptoms, *words_of(problem.summary), *words_of(problem.text)]
    services = set(SERVICE_WORDS) | set(SERVICE_WORDS.values())
    return {word for word in _expanded(raw) if word not in services}


def score_prompt(prompt: InspectionPrompt, problem: ProblemStatement, words: set[str]) -> tuple[float, list[str]]:
    """(score, what matched) of one prompt for a problem (see the module docstring for the points)."""
    score = 0.0
    matched: list[str] = []
    services = set(problem.services)
    for index, service in enumerate(prompt.services):
        if service in services:
            score += 4 if index == 0 else 2
            matched.append(f"service:{service}")
    strong, weak = _prompt_words(prompt)
    for word in sorted(words):
        if word in strong:
            score += 2
            matched.append(word)
        elif word in weak:
            score += 0.5
    hints = CATEGORY_HINTS.get(prompt.category.value, ())
    if any(h in words for h in hints):
        score += 1.5
        matched.append(f"category:{prompt.category.value}")
    return score, matched


def default_variables(prompt: InspectionPrompt, problem: ProblemStatement) -> dict[str, Any]:
    """The prompt's defaults, with a look-back window (`hours`) set to the problem's where the prompt has one."""
    values: dict[str, Any] = {name: var.default for name, var in prompt.variables.items() if not var.required}
    hours = prompt.variables.get("hours")
    if hours is not None and not hours.required and hours.type is VarType.integer:
        values["hours"] = _clamped(problem.window_hours, hours)
    return values


def _clamped(value: int, var: Variable) -> int:
    if var.minimum is not None:
        value = max(value, int(var.minimum))
    if var.maximum is not None:
        value = min(value, int(var.maximum))
    return value


def shortlist(
    problem: ProblemStatement,
    catalog: Mapping[str, InspectionPrompt],
    *,
    size: int = 12,
    exclude: Iterable[str] = (),
) -> list[Candidate]:
    """The `size` best-scoring catalogue prompts for `problem` (score > 0), best first, ties by id; prompts with
    required variables are left out (the planner could not know their values), and so are `exclude`d ids."""
    words = problem_words(problem)
    skip = set(exclude)
    scored: list[Candidate] = []
    for prompt_id in sorted(catalog):
        prompt = catalog[prompt_id]
        if prompt_id in skip or any(v.required for v in prompt.variables.values()):
            continue
        score, matched = score_prompt(prompt, problem, words)
        if score > 0:
            scored.append(Candidate(prompt, score, default_variables(prompt, problem), matched))
    scored.sort(key=lambda c: (-c.score, c.prompt.id))
    return scored[:size]


def valid_variables(prompt: InspectionPrompt, given: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The planner's variables for `prompt`, validated with cloudinspect.catalog.resolve_variables: unknown names
    and bad values are dropped (the default stands) and said in the returned warnings. ValueError when the prompt
    cannot run at all (a required variable is missing or bad)."""
    from cloudinspect.catalog.render import resolve_variables
    from cloudinspect.errors import InputError

    values = dict(given)
    warnings: list[str] = []
    try:
        return resolve_variables(prompt, values), warnings
    except InputError as exc:
        for problem in exc.problems:
            if problem.field in values:
                warnings.append(
                    f"{prompt.id}: variable {problem.field!r}={values.pop(problem.field)!r} dropped (the default "
                    f"stands): {problem.message}"
                )
    try:
        return resolve_variables(prompt, values), warnings
    except InputError as exc:  # a required variable is missing: the prompt cannot run
        raise ValueError("; ".join(p.render() for p in exc.problems) or exc.summary) from exc
