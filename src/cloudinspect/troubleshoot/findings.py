"""The troubleshooting vocabulary: the finding labels a diagnosis may name, and how to see and fix each.

A label (`lambda-timeout`, `s3-bucket-public-policy`) is the unit of scoring: a fault scenario declares the
labels a correct diagnosis names, and the diagnosis names labels of this vocabulary, never free text. Each
label says what it means (in words a model can match against evidence), which catalogue prompts reveal it,
and how to remediate it: AWS CLI command templates whose `{placeholders}` name the resources, console steps,
and a caution. cloudinspect never runs these commands; it shows them.

The vocabulary ships in resources/troubleshoot/findings.yaml; an unknown label anywhere is an InputError.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cloudinspect.config import resources_dir
from cloudinspect.errors import InputError, Problem, UnknownIdError
from cloudinspect.yamlfiles import load_model

if TYPE_CHECKING:
    from cloudinspect.catalog import Catalog
    from cloudinspect.cloud.scenario import Scenario

LABEL_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RemediationGuide(_Strict):
    """How to fix a finding: never executed by cloudinspect, shown to the user or handed to an agent."""

    commands: list[str] = Field(
        min_length=1, description="AWS CLI command templates; resource names are {snake_case} placeholders."
    )
    console_steps: list[str] = Field(min_length=1, description="The same fix in the AWS console, step by step.")
    caution: str = Field(min_length=10, description="What could go wrong, or what to check first.")

    @field_validator("commands")
    @classmethod
    def _aws_cli(cls, commands: list[str]) -> list[str]:
        for command in commands:
            if not command.startswith("aws "):
                raise ValueError(f"not an AWS CLI command (must start with 'aws '): {command!r}")
        return commands

    def placeholders(self) -> list[str]:
        """Every {placeholder} of the commands, in order of first use."""
        return list(dict.fromkeys(m.group(1) for c in self.commands for m in _PLACEHOLDER.finditer(c)))

    def render(self, values: Mapping[str, str]) -> list[str]:
        """The commands with the placeholders that `values` names filled in (others stay `{name}`)."""
        return [_PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), m.group(0))), c) for c in self.commands]


class FindingLabel(_Strict):
    """One label of the vocabulary: what it means, where it shows, how to fix it."""

    id: str = Field(pattern=LABEL_PATTERN, description="Kebab-case label, e.g. 'lambda-timeout'.")
    title: str = Field(min_length=5)
    description: str = Field(min_length=20, description="One or two sentences a model can match against evidence.")
    services: list[str] = Field(min_length=1, description="Services involved, as botocore names them.")
    evidence_prompts: list[str] = Field(min_length=1, description="Catalogue prompt ids whose output reveals it.")
    remediation: RemediationGuide

    @field_validator("services")
    @classmethod
    def _botocore_names(cls, services: list[str]) -> list[str]:
        unknown = [s for s in services if s not in _botocore_services()]
        if unknown:
            raise ValueError(f"not botocore service names: {', '.join(unknown)}")
        return services


class Vocabulary(_Strict):
    """The file: a version and the labels."""

    version: int = Field(1, ge=1, le=1)
    findings: list[FindingLabel] = Field(min_length=1)

    @field_validator("findings")
    @classmethod
    def _unique(cls, findings: list[FindingLabel]) -> list[FindingLabel]:
        seen: set[str] = set()
        for k, finding in enumerate(findings):
            if finding.id in seen:
                raise ValueError(f"label {finding.id!r} is defined twice (again as entry {k})")
            seen.add(finding.id)
        return findings


@functools.cache
def _botocore_services() -> frozenset[str]:
    import botocore.session

    return frozenset(botocore.session.get_session().get_available_services())


def findings_file() -> Path:
    """The vocabulary shipped with cloudinspect."""
    return resources_dir() / "troubleshoot" / "findings.yaml"


def load_findings_file(path: Path) -> dict[str, FindingLabel]:
    """Load and validate a vocabulary file: label -> FindingLabel, in file order."""
    vocabulary = load_model(path, Vocabulary)
    return {finding.id: finding for finding in vocabulary.findings}


@functools.cache
def _builtin_findings() -> dict[str, FindingLabel]:
    return load_findings_file(findings_file())


def load_findings() -> dict[str, FindingLabel]:
    """The shipped vocabulary (validated, read once per process): label -> FindingLabel, in file order.

    Each call returns a new dict (callers may change it); the labels themselves are frozen.
    """
    return dict(_builtin_findings())


def unknown_labels(labels: Iterable[str]) -> list[str]:
    """The labels that are not in the vocabulary, in order, without repeats."""
    known = _builtin_findings()
    return list(dict.fromkeys(label for label in labels if label not in known))


def get_finding(label: str) -> FindingLabel:
    """One label of the vocabulary; UnknownIdError (exit 2) with close matches when there is none."""
    known = _builtin_findings()
    if label not in known:
        raise UnknownIdError.of("finding label", label, list(known))
    return known[label]


def check_labels(labels: Iterable[str], source: Path | str | None = None, field: str = "labels") -> None:
    """InputError naming every unknown label of `labels` (and where they came from)."""
    unknown = unknown_labels(labels)
    if unknown:
        problems = [Problem(f"unknown finding label {label!r}", field) for label in unknown]
        raise InputError("unknown finding labels (see troubleshoot/findings.yaml)", source, problems)


def fault_problems(scenario: Scenario, prompt_ids: Iterable[str]) -> list[Problem]:
    """Evidence prompts of a scenario's fault that are not among `prompt_ids` (a catalogue's).

    Its labels need no check here: a Fault with an unknown label does not validate (see `Fault`).
    """
    if scenario.fault is None:
        return []
    known = set(prompt_ids)
    return [
        Problem(f"no catalogue prompt {prompt_id!r}", f"fault.evidence_prompts.{k}")
        for k, prompt_id in enumerate(scenario.fault.evidence_prompts)
        if prompt_id not in known
    ]


def check_fault(scenario: Scenario, catalog: Catalog | None = None, source: Path | str | None = None) -> None:
    """InputError when the scenario's fault names evidence prompts that the catalogue does not have.

    Its expected findings were checked against the vocabulary when the scenario was loaded. `catalog`: the
    catalogue to check against (default: the built-in one plus the user's directories).
    """
    if scenario.fault is None:
        return
    if catalog is None:
        from cloudinspect.catalog import load_catalog

        catalog = load_catalog()
    problems = fault_problems(scenario, catalog)
    if problems:
        raise InputError(f"invalid fault of scenario '{scenario.name}'", source, problems)
