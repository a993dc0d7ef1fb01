"""Writing new catalogue prompts with a reasoning model, checking them, and saving them to a user's catalogue.

`generate_prompts` shows the model the task (a service to cover, or a user's problem to investigate), the
schema of a prompt with one or two real catalogue prompts as examples, and the ids and titles it must not
repeat; it replies with JSON drafts. Every draft is judged on its own, so that one bad draft does not sink the
others: validated as an `InspectionPrompt` (errors keep their field paths), its services checked against
botocore, its template rendered with its defaults, and compared with the catalogue (a near copy of an existing
prompt is rejected naming it; an id already taken is renamed). Nothing is written: the user reviews the YAML,
may verify a prompt by generating and running code for it on the emulator (`verify_prompt`, graded against
the contract since there is no canonical script yet), and saves it (`save_prompt`) where the catalogue loader
finds it (a directory in `CLOUDINSPECT_CATALOG_DIRS`, or `--catalog DIR`).
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import jinja2
import jinja2.meta
import yaml
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from cloudinspect.catalog.loader import Catalog, load_catalog, load_prompt_file
from cloudinspect.catalog.render import render_prompt
from cloudinspect.catalog.schema import Category, InspectionPrompt, VarType
from cloudinspect.errors import InputError, Problem
from cloudinspect.models.spec import ModelSpec

PROMPTGEN_KEY = "promptgen"
"""The replay key of the generation call: a replay file maps `promptgen: [reply, ...]`."""
MAX_COUNT = 10
SIMILAR_WORDS = 0.6
"""Jaccard similarity of title+description+template words from which a draft on a shared service and of the
same category is a duplicate. Distinct shipped prompts stay below 0.5 with each other."""
SIMILAR_WORDS_ANY_CATEGORY = 0.75
MIN_SHAPE_FIELDS = 3
"""A contract shape (top-level keys and item fields) this large, identical to an existing prompt's on a shared
service, is a duplicate whatever the words."""
CHARS_PER_TOKEN = 3.0
"""A cautious estimate (YAML and code tokenise densely) for fitting the request into small context windows."""
DEFAULT_CONTEXT_TOKENS = 32768
DEFAULT_REPLY_TOKENS = 4096
MAX_EXISTING_LISTED = 40
MIN_SHARED_WORDS = 3
"""Words a catalogue prompt shares with a user's problem to be listed as related (besides naming its service)."""
DESCRIPTION_WIDTH = 110

_STOP = frozenset(
    {
        "the",
        "and",
        "for",
        "with",
        "are",
        "its",
        "this",
        "that",
        "from",
        "each",
        "every",
        "which",
        "whose",
        "their",
        "there",
        "any",
        "all",
        "one",
        "not",
        "per",
        "than",
        "then",
        "them",
        "they",
        "write",
        "python",
        "script",
        "print",
        "json",
        "object",
        "aws",
        "current",
        "region",
        "where",
        "sorted",
        "number",
        "count",
    }
)
"""Words too common in prompts to tell two apart (words under three letters are dropped anyway)."""
_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
_JINJA_ENV = jinja2.Environment(autoescape=False)  # noqa: S701 - parsed only, to list the names a template uses


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PromptDrafts(BaseModel):
    """The model's reply: {"prompts": [...]}. Drafts stay raw here, to be judged one by one."""

    prompts: list[dict[str, Any]] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _lenient(cls, data: Any) -> Any:
        # Small models often reply with the list alone, or with one prompt object: both are meant as drafts.
        if isinstance(data, list):
            return {"prompts": data}
        if isinstance(data, dict) and "prompts" not in data and {"id", "template"} <= data.keys():
            return {"prompts": [data]}
        return data


class GeneratedPrompt(_Frozen):
    """An accepted draft: the prompt, its catalogue YAML, and what the user should know before saving it."""

    prompt: InspectionPrompt
    yaml_text: str
    warnings: list[str] = Field(default_factory=list)


class RejectedDraft(_Frozen):
    """A draft that did not make it: its id (or '#N' when it has none) and every reason."""

    draft: str
    reasons: list[str]
    data: Any = Field(None, description="The draft as the model wrote it, to fix by hand.")


class GenerationUsage(_Frozen):
    """What the generation call(s) cost."""

    model_id: str
    calls: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    latency_ms: float = 0.0


class PromptGeneration(_Frozen):
    """Everything one generation produced."""

    task: str
    accepted: list[GeneratedPrompt] = Field(default_factory=list)
    rejected: list[RejectedDraft] = Field(default_factory=list)
    usage: GenerationUsage
    error: str = Field("", description="Why the reply held no usable drafts at all (empty when it did).")
    examples: list[str] = Field(default_factory=list, description="Ids of the catalogue prompts shown as examples.")


class Verification(_Frozen):
    """How a generated prompt fared in the repair loop on the emulator."""

    prompt_id: str
    passed: bool
    status: str
    reason: str = ""
    run_id: str
    target: str
    code: str | None = Field(None, description="The final script (the passing one when it passed).")
    output: Any = None
    attempts: int = 0
    error_classes: list[str] = Field(default_factory=list)
    last_error: str = Field("", description="What was wrong with the last attempt, when it failed.")
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    duration_ms: float = 0.0


# --- YAML ------------------------------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    """Catalogue layout: literal blocks for multi-line text, flow style for short lists and leaf schemas."""


class _FlowList(list[Any]):
    pass


class _FlowMap(dict[str, Any]):
    pass


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(_FlowList, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", list(v), flow_style=True))
_Dumper.add_representer(_FlowMap, lambda d, v: d.represent_mapping("tag:yaml.org,2002:map", dict(v), flow_style=True))


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, bool | int | float) or (isinstance(value, str) and "\n" not in value)


def _flowed(value: Any, *, leaf_maps: bool) -> Any:
    """Lists of scalars in flow style; with `leaf_maps`, also short mappings of scalars (schema leaves)."""
    if isinstance(value, list):
        if all(_scalar(v) for v in value):
            return _FlowList(value)
        return [_flowed(v, leaf_maps=leaf_maps) for v in value]
    if isinstance(value, dict):
        inner = {k: _flowed(v, leaf_maps=leaf_maps) for k, v in value.items()}
        short = len(yaml.safe_dump(value, default_flow_style=True, width=1000)) <= 80
        if leaf_maps and short and all(_scalar(v) or isinstance(v, _FlowList) for v in inner.values()):
            return _FlowMap(inner)
        return inner
    return value


def _without_defaults(data: dict[str, Any]) -> dict[str, Any]:
    """The prompt's fields as a catalogue file writes them: no empty or default values."""
    for var in data.get("variables", {}).values():
        for key in ("enum", "pattern", "minimum", "maximum", "default"):
            if var.get(key) is None:
                var.pop(key, None)
        if not var.get("required"):
            var.pop("required", None)
        for key in ("minimum", "maximum"):  # floats in the schema; whole numbers read better as integers
            if isinstance(var.get(key), float) and var[key].is_integer():
                var[key] = int(var[key])
    if not data.get("adjustments"):
        data.pop("adjustments", None)
    else:
        for adj in data["adjustments"]:
            for key in ("prepend", "append"):
                if not adj.get(key):
                    adj.pop(key, None)
    if data.get("reference") is None:
        data.pop("reference", None)
    compare = data["contract"].get("compare", {})
    for tolerance in compare.get("tolerances", {}).values():
        for key in ("abs", "rel"):
            if not tolerance.get(key):
                tolerance.pop(key, None)
    for key in ("keys", "ordered", "tolerances", "ignore"):
        if not compare.get(key):
            compare.pop(key, None)
    if compare.get("default_tolerance") == {"abs": 0.0, "rel": 1e-6}:
        compare.pop("default_tolerance")
    if not compare:
        data["contract"].pop("compare", None)
    return data


def to_yaml(prompt: InspectionPrompt) -> str:
    """The prompt as a catalogue YAML file (the shipped files' layout); loading it gives an equal prompt."""
    data = _without_defaults(prompt.model_dump(mode="json", by_alias=True))
    for key in ("services", "tags"):
        data[key] = _FlowList(data[key])
    for var in data.get("variables", {}).values():
        for key in ("default", "enum"):
            if isinstance(var.get(key), list):
                var[key] = _FlowList(var[key])
    data["contract"] = _flowed(data["contract"], leaf_maps=True)
    if "adjustments" in data:
        data["adjustments"] = [{**a, "families": _FlowList(a["families"])} for a in data["adjustments"]]
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=DESCRIPTION_WIDTH)


# --- similarity ------------------------------------------------------------------------------------------------


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", _JINJA.sub(" ", text).lower()) if len(w) > 2 and w not in _STOP}


def prompt_words(prompt: InspectionPrompt) -> set[str]:
    """The normalised words of a prompt's title, description and template (Jinja expressions left out)."""
    return _words(" ".join((prompt.title, prompt.description, prompt.template)))


def contract_shape(prompt: InspectionPrompt) -> frozenset[str]:
    """The contract's top-level keys and the fields of their items ('functions', 'functions[].name'...)."""
    found: set[str] = set()

    def walk(node: Any, path: str, depth: int) -> None:
        if depth > 2 or not isinstance(node, dict):
            return
        if node.get("type") == "array" or "items" in node:
            walk(node.get("items"), f"{path}[]", depth)
            return
        for key, value in (node.get("properties") or {}).items():
            child = f"{path}.{key}" if path else key
            found.add(child)
            walk(value, child, depth + 1)

    walk(prompt.contract.json_schema, "", 0)
    return frozenset(found)


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


def duplicate_of(prompt: InspectionPrompt, others: Iterable[InspectionPrompt]) -> tuple[InspectionPrompt, str] | None:
    """The first of `others` that `prompt` repeats, with why; None when it is new."""
    words, shape = prompt_words(prompt), contract_shape(prompt)
    for other in others:
        if not set(prompt.services) & set(other.services):
            continue
        similarity = _jaccard(words, prompt_words(other))
        if similarity >= SIMILAR_WORDS_ANY_CATEGORY or (
            similarity >= SIMILAR_WORDS and prompt.category == other.category
        ):
            return other, f"{similarity:.0%} of its title, description and template words are the same"
        if len(shape) >= MIN_SHAPE_FIELDS and shape == contract_shape(other):
            return other, "its output contract has the same keys and item fields"
    return None


# --- checking drafts -------------------------------------------------------------------------------------------


def _tidy_text(value: Any, *, wrap: bool) -> Any:
    """Text fields without trailing spaces (so that they stay literal blocks), ending with a newline; a long
    one-paragraph description is wrapped like the shipped files'."""
    if not isinstance(value, str) or not value.strip():
        return value
    lines = [line.rstrip() for line in value.strip("\n").splitlines()]
    text = "\n".join(lines)
    if wrap:
        paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text)]
        text = "\n\n".join(textwrap.fill(p, DESCRIPTION_WIDTH) for p in paragraphs if p)
    return text + "\n"


def _validation_reasons(exc: ValidationError) -> list[str]:
    reasons = []
    for err in exc.errors(include_url=False):
        where = ".".join(str(p) for p in err["loc"]) or "(root)"
        message = "unknown field (not part of the schema)" if err["type"] == "extra_forbidden" else err["msg"]
        message = message.removeprefix("Value error, ")
        reasons.append(f"{where}: {message}")
    return reasons


def _service_reasons(services: list[str]) -> list[str]:
    from cloudinspect.review.awsmodels import resolve_service, suggest_service

    reasons = []
    for index, name in enumerate(services):
        if resolve_service(name) is None:
            close = suggest_service(name)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            reasons.append(f"services.{index}: '{name}' is not a botocore service name{hint}")
    return reasons


def _unsafe_jinja(prompt: InspectionPrompt) -> list[str]:
    """Reasons to refuse the Jinja of a model-written prompt before rendering it with the catalogue's (unsandboxed)
    environment: syntax errors, private attributes (`''.__class__`...), and whatever Jinja's sandbox refuses when
    rendering with the defaults. Catalogue templates only need variables, filters, `if` and `for`."""
    from jinja2 import nodes
    from jinja2.sandbox import SandboxedEnvironment

    from cloudinspect.catalog.render import resolve_variables

    sandbox = SandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False)
    texts = {"template": prompt.template}
    for i, adj in enumerate(prompt.adjustments):
        texts |= {f"adjustments.{i}.prepend": adj.prepend, f"adjustments.{i}.append": adj.append}
    reasons = []
    for where, text in texts.items():
        try:
            tree = sandbox.parse(text)
        except jinja2.TemplateSyntaxError as exc:
            reasons.append(f"{where}: invalid Jinja (line {exc.lineno}): {exc.message}")
            continue
        for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
            if isinstance(node, nodes.Getattr):
                name: Any = node.attr
            else:
                name = getattr(getattr(node, "arg", None), "value", None)
            if isinstance(name, str) and name.startswith("_"):
                reasons.append(f"{where}: uses the private attribute '{name}'")
                break
        else:
            try:
                sandbox.from_string(text).render(**resolve_variables(prompt))
            except jinja2.exceptions.SecurityError as exc:
                reasons.append(f"{where}: refused by Jinja's sandbox: {exc}")
            except Exception:  # noqa: S110 - any other failure is reported by the real rendering that follows
                pass
    return reasons


def _render_checks(prompt: InspectionPrompt) -> tuple[list[str], list[str]]:
    """(reasons, warnings) from rendering the template with its defaults and reading which names it uses."""
    reasons = [
        f"variables.{name}: required without a default; a generated prompt must render with its defaults"
        for name, var in prompt.variables.items()
        if var.required
    ]
    if reasons:
        return reasons, []
    unsafe = _unsafe_jinja(prompt)
    if unsafe:
        return unsafe, []
    try:
        rendered = render_prompt(prompt)
    except InputError as exc:
        detail = "; ".join(p.render() for p in exc.problems) or exc.summary
        return [f"template: does not render with its defaults: {detail}"], []
    except Exception as exc:  # a model's template can fail in any filter (a number joined, a string added...)
        return [f"template: does not render with its defaults: {type(exc).__name__}: {exc}"], []
    warnings = []
    used = jinja2.meta.find_undeclared_variables(_JINJA_ENV.parse(prompt.template))
    unused = sorted(set(prompt.variables) - used)
    if unused:
        warnings.append(f"variables {', '.join(unused)} are declared but the template does not use them")
    required = prompt.contract.json_schema.get("required") or list(prompt.contract.json_schema.get("properties", {}))
    missing = [key for key in required if isinstance(key, str) and key not in rendered]
    if missing:
        warnings.append(f"the template does not mention the output key(s) {', '.join(missing)} of its contract")
    return [], warnings


def _free_id(wanted: str, taken: set[str]) -> str:
    n = 2
    while f"{wanted}-{n}" in taken:
        n += 1
    return f"{wanted}-{n}"


def check_draft(
    data: Any, catalog: Catalog, accepted: list[GeneratedPrompt], *, service: str | None = None, index: int = 0
) -> GeneratedPrompt | RejectedDraft:
    """Judge one draft against the schema, botocore, its own template and the catalogue (plus `accepted`)."""
    label = str(data.get("id")) if isinstance(data, dict) and isinstance(data.get("id"), str) else f"#{index + 1}"
    if not isinstance(data, dict):
        return RejectedDraft(draft=label, reasons=["(root): a draft must be a JSON object"], data=data)
    warnings: list[str] = []
    fields = dict(data)
    if fields.pop("reference", None) is not None:
        warnings.append("dropped its 'reference': a generated prompt gets its reference script when verified")
    for key in ("description", "template"):
        if key in fields:
            fields[key] = _tidy_text(fields[key], wrap=key == "description")
    try:
        prompt = InspectionPrompt.model_validate(fields)
    except ValidationError as exc:
        return RejectedDraft(draft=label, reasons=_validation_reasons(exc), data=data)
    reasons = _service_reasons(prompt.services)
    render_reasons, render_warnings = _render_checks(prompt)
    reasons += render_reasons
    warnings += render_warnings
    if service is not None and service not in prompt.services:
        warnings.append(f"it does not use the service it was asked for ({service})")
    existing = [catalog.prompts[k] for k in sorted(catalog.prompts)]
    found = duplicate_of(prompt, [*existing, *(g.prompt for g in accepted)])
    if found is not None:
        other, why = found
        where = f" ({other.source})" if other.source is not None else " (generated in this batch)"
        reasons.append(f"duplicate of '{other.id}'{where}: {why}")
    if reasons:
        return RejectedDraft(draft=label, reasons=reasons, data=data)
    taken = set(catalog.prompts) | {g.prompt.id for g in accepted}
    if prompt.id in taken:
        new_id = _free_id(prompt.id, taken)
        owner = catalog.prompts.get(prompt.id)
        whose = f"catalogue prompt{f' ({owner.source})' if owner and owner.source else ''}" if owner else "draft"
        warnings.append(f"id '{prompt.id}' is taken by another {whose}: renamed '{new_id}'")
        prompt = prompt.model_copy(update={"id": new_id})
    return GeneratedPrompt(prompt=prompt, yaml_text=to_yaml(prompt), warnings=warnings)


# --- asking the model ------------------------------------------------------------------------------------------


def _check_service(service: str, catalog: Catalog) -> str:
    from cloudinspect.review.awsmodels import resolve_service, suggest_service

    resolved = resolve_service(service.strip().lower())
    if resolved is not None:
        return resolved
    close = suggest_service(service)
    hint = [Problem(f"did you mean: {', '.join(close)}?")] if close else []
    covered = Problem(f"services the catalogue covers: {', '.join(catalog.services)}")
    raise InputError(f"unknown AWS service '{service}' (expected a boto3 client name)", None, [*hint, covered])


def _problem_services(problem: str, catalog: Catalog) -> set[str]:
    """Catalogue services the problem names ('Lambda', 'bucket' does not count: only service names)."""
    from cloudinspect.review.awsmodels import SERVICE_ALIASES, resolve_service

    found = set()
    for word in re.findall(r"[a-z0-9-]+", problem.lower()):
        name = resolve_service(SERVICE_ALIASES.get(word, word))
        if name in catalog.services:
            found.add(name)
    return found


def _relevant(
    catalog: Catalog, service: str | None, problem: str | None
) -> tuple[list[InspectionPrompt], list[InspectionPrompt]]:
    """(example candidates best first, existing prompts to list) for the task."""
    everything = [catalog.prompts[k] for k in sorted(catalog.prompts)]
    if service is not None:
        same = catalog.select(services=[service])
        primary = [p for p in same if p.services[0] == service] or same
        candidates = sorted(primary, key=lambda p: len(to_yaml(p))) or sorted(everything, key=lambda p: len(to_yaml(p)))
        return candidates, same
    words = _words(problem or "")
    named = _problem_services(problem or "", catalog)

    def shared(p: InspectionPrompt) -> int:
        return len(words & prompt_words(p))

    def score(p: InspectionPrompt) -> tuple[int, int]:
        return (1 if named & set(p.services) else 0, shared(p))

    ranked = sorted(everything, key=lambda p: (tuple(-x for x in score(p)), len(to_yaml(p)), p.id))
    related = [p for p in ranked if named & set(p.services) or shared(p) >= MIN_SHARED_WORDS]
    return ranked, related[:MAX_EXISTING_LISTED]


def _as_example(prompt: InspectionPrompt) -> str:
    """A catalogue prompt as the model sees it: without family adjustments, description wrapped."""
    description = _tidy_text(prompt.description, wrap=True)
    return to_yaml(prompt.model_copy(update={"adjustments": [], "reference": None, "description": description}))


def build_messages(
    spec: ModelSpec,
    catalog: Catalog,
    *,
    service: str | None,
    problem: str | None,
    count: int,
) -> tuple[list[BaseMessage], list[str]]:
    """The generation request (system + user message) and the ids of the examples it shows; as many examples
    (two at most) and existing prompts as fit the model's context with room for its reply and one fix turn."""
    from cloudinspect.generation import render_template

    candidates, existing = _relevant(catalog, service, problem)
    context = spec.n_ctx or spec.context_window or DEFAULT_CONTEXT_TOKENS
    reply = spec.parameters.max_tokens or DEFAULT_REPLY_TOKENS
    budget_chars = max(context - 2 * reply - 200, 0) * CHARS_PER_TOKEN
    system = render_template("promptgen_system")
    common = {
        "service": service,
        "problem": (problem or "").strip(),
        "count": count,
        "categories": [c.value for c in Category],
        "var_types": [t.value for t in VarType],
    }
    listed = [{"id": p.id, "title": p.title} for p in existing[:MAX_EXISTING_LISTED]]
    request = ""
    shown: list[InspectionPrompt] = []
    for n_examples, n_listed in ((2, len(listed)), (1, len(listed)), (1, 10), (0, 10)):
        shown = candidates[:n_examples]
        request = render_template(
            "promptgen_request", **common, examples=[_as_example(p) for p in shown], existing=listed[:n_listed]
        )
        if len(system) + len(request) <= budget_chars:
            break
    return [SystemMessage(system), HumanMessage(request)], [p.id for p in shown]


def _default_catalog(user_catalog: Path | None) -> Catalog:
    from cloudinspect.config import get_settings

    dirs = list(get_settings().catalog_dirs)
    if user_catalog is not None and user_catalog.is_dir() and user_catalog not in dirs:
        dirs.append(user_catalog)
    return load_catalog(dirs)


def generate_prompts(
    *,
    model: str,
    service: str | None = None,
    problem: str | None = None,
    count: int = 3,
    catalog: Catalog | None = None,
    chat_model: BaseChatModel | None = None,
    user_catalog: Path | None = None,
) -> PromptGeneration:
    """Ask `model` for `count` new prompts about `service` (a boto3 client name) or for investigating `problem`
    (exactly one of them), and judge each draft. `catalog`: what drafts must not repeat (default: the built-in
    catalogue, the settings' directories and `user_catalog` when it exists); `chat_model` replaces the model
    built from the registry (tests: a replay model). Raises InputError for a bad task, ModelCallError when the
    provider fails; a reply without usable drafts is a result with `error` set."""
    from cloudinspect.generation import model_label
    from cloudinspect.llmjson import ask_json
    from cloudinspect.models import get_model, get_spec
    from cloudinspect.observability import run_config

    if (service is None) == (problem is None):
        raise InputError("give exactly one of a service or a problem to generate prompts for")
    if not 1 <= count <= MAX_COUNT:
        raise InputError(f"count must be between 1 and {MAX_COUNT}, got {count}")
    if problem is not None and not problem.strip():
        raise InputError("the problem is empty: describe what is wrong")
    catalog = catalog if catalog is not None else _default_catalog(user_catalog)
    if service is not None:
        service = _check_service(service, catalog)
    spec = get_spec(model)
    llm = chat_model if chat_model is not None else get_model(spec)
    messages, examples = build_messages(spec, catalog, service=service, problem=problem, count=count)
    task = f"service {service}" if service is not None else f"problem: {(problem or '').strip()}"
    config = run_config("cloudinspect.promptgen", ["cloudinspect", "promptgen"], {"cloudinspect_task": task})
    reply = ask_json(llm, spec, messages, PromptDrafts, key=PROMPTGEN_KEY, fixes=1, config=config)
    usage = GenerationUsage(
        model_id=model_label(spec),
        calls=reply.calls,
        tokens_in=reply.tokens_in,
        tokens_out=reply.tokens_out,
        cost_usd=round(reply.cost_usd, 6),
        latency_ms=round(reply.latency_ms, 1),
    )
    if reply.value is None:
        error = f"no usable reply after {reply.calls} call(s): {reply.error}"
        return PromptGeneration(task=task, usage=usage, error=error, examples=examples)
    accepted: list[GeneratedPrompt] = []
    rejected: list[RejectedDraft] = []
    for index, draft in enumerate(reply.value.prompts):
        outcome = check_draft(draft, catalog, accepted, service=service, index=index)
        if isinstance(outcome, GeneratedPrompt):
            accepted.append(outcome)
        else:
            rejected.append(outcome)
    return PromptGeneration(task=task, accepted=accepted, rejected=rejected, usage=usage, examples=examples)


# --- verifying and saving --------------------------------------------------------------------------------------


def verify_prompt(
    prompt: InspectionPrompt,
    *,
    model: str,
    scenario: str = "baseline",
    sandbox: str = "warm",
    max_attempts: int = 3,
    chat_model: BaseChatModel | None = None,
    target: str | None = None,
    store: Any = None,
    on_event: Callable[[Any], None] | None = None,
) -> Verification:
    """Generate and run code for `prompt` with the repair loop on the emulator seeded with `scenario` (or on
    `target`, e.g. the `endpoint:` of an emulator already running), graded against the prompt's contract: a
    generated prompt has no canonical script to compare with. The run is recorded in `store` (default: the
    user's results store) like any other."""
    from cloudinspect.loop import LoopLimits, run_repair_loop

    where = target or f"emulator:{scenario}"
    record = run_repair_loop(
        prompt,
        model,
        target=where,
        limits=LoopLimits(max_attempts=max_attempts),
        sandbox=sandbox,
        store=store,
        chat_model=chat_model,
        on_event=on_event,
    )
    return Verification(
        prompt_id=prompt.id,
        passed=record.status == "passed",
        status=record.status,
        reason=record.reason,
        run_id=record.run_id,
        target=where,
        code=record.final_code,
        output=record.output,
        attempts=len(record.attempts),
        error_classes=[a.error_class for a in record.attempts],
        last_error=record.attempts[-1].error_message if record.attempts and not record.attempts[-1].passed else "",
        tokens_in=record.tokens_in,
        tokens_out=record.tokens_out,
        cost_usd=record.cost_usd,
        duration_ms=record.duration_ms,
    )


def save_prompt(
    generated: GeneratedPrompt | InspectionPrompt,
    directory: Path,
    *,
    reference_code: str | None = None,
    force: bool = False,
) -> list[Path]:
    """Write DIRECTORY/<service>/<id>.yaml, and <id>.py beside it when `reference_code` (a verified script, the
    prompt's canonical reference from now on) is given. Refuses to overwrite unless `force` (which also removes
    a reference script left from an earlier save when none is given now); the YAML is read back with the
    catalogue loader before returning. Returns the files written."""
    from cloudinspect.fileio import write_text_atomic

    prompt = generated.prompt if isinstance(generated, GeneratedPrompt) else generated
    prompt = prompt.model_copy(update={"reference": None})
    folder = directory.expanduser() / prompt.services[0]
    yaml_path, script_path = folder / f"{prompt.id}.yaml", folder / f"{prompt.id}.py"
    if directory.is_dir():
        elsewhere = [p for p in directory.rglob(f"{prompt.id}.y*ml") if p.resolve() != yaml_path.resolve()]
        if elsewhere:
            raise InputError(
                f"prompt '{prompt.id}' is already saved at {elsewhere[0]}: remove that file to save it here",
                yaml_path,
            )
    clashes = [p for p in (yaml_path, script_path) if p.exists()]
    if clashes and not force:
        raise InputError(f"{', '.join(str(p) for p in clashes)} already exist(s): use force (--force) to replace")
    if reference_code is not None:
        try:
            compile(reference_code, str(script_path), "exec")
        except SyntaxError as exc:
            raise InputError(f"the reference script does not compile: {exc.msg} (line {exc.lineno})") from exc
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    if reference_code is not None:
        written.append(write_text_atomic(script_path, reference_code))
    elif script_path.exists():
        script_path.unlink()  # only reached with force: a stale reference would grade the new prompt wrongly
    written.append(write_text_atomic(yaml_path, to_yaml(prompt)))
    loaded = load_prompt_file(yaml_path)
    if loaded.model_dump() != prompt.model_dump():
        raise InputError("the saved prompt does not load back equal to the generated one", yaml_path)
    return written
