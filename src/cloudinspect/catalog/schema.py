"""The prompt catalogue's schema: an inspection prompt, its typed variables and its output contract."""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import jsonschema
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

ID_PATTERN = r"^[a-z0-9]+(?:[-.][a-z0-9]+)*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Category(StrEnum):
    """What kind of question a prompt asks."""

    resources = "resources"
    configuration = "configuration"
    metrics = "metrics"
    logs = "logs"
    security = "security"
    cost = "cost"


class VarType(StrEnum):
    """Types a prompt variable may have."""

    string = "string"
    integer = "integer"
    number = "number"
    boolean = "boolean"
    string_list = "string_list"


class Variable(_Strict):
    """A typed variable of a prompt template. Values are validated before rendering."""

    type: VarType = VarType.string
    description: str
    required: bool = False
    default: Any = None
    enum: list[Any] | None = None
    pattern: str | None = Field(default=None, description="Regular expression a string value must match.")
    minimum: float | None = None
    maximum: float | None = None

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"pattern is not a valid regular expression: {exc}") from exc
        return value

    @model_validator(mode="after")
    def _default_fits(self) -> Variable:
        if self.required and self.default is not None:
            raise ValueError("a required variable cannot have a default")
        if not self.required and self.default is None:
            raise ValueError("an optional variable needs a default")
        return self


class Adjustment(_Strict):
    """Model-family adjustments of the rendered prompt (small models need more explicit instructions)."""

    families: list[str] = Field(min_length=1, description="Model families (registry `family`) this applies to.")
    prepend: str = ""
    append: str = ""


class Tolerance(_Strict):
    """How far two numbers may differ and still be equal: |a-b| <= max(abs, rel * max(|a|, |b|))."""

    abs: float = 0.0
    rel: float = 0.0


FieldPath = Annotated[
    str,
    Field(
        pattern=r"^(\[\]|[A-Za-z0-9_\-]+(\[\])?)(\.[A-Za-z0-9_\-]+(\[\])?)*$|^$",
        description="A path into the output: dot-separated keys, `[]` for every item of a list; '' is the root.",
    ),
]


class CompareRules(_Strict):
    """How two outputs of the same contract are compared (generated script vs canonical script)."""

    keys: dict[FieldPath, list[str]] = Field(
        default_factory=dict,
        description="List path -> fields that identify an item, so items are matched by identity, not position.",
    )
    ordered: list[FieldPath] = Field(
        default_factory=list,
        description="Lists whose order matters; every other list is compared as a multiset.",
    )
    tolerances: dict[FieldPath, Tolerance] = Field(
        default_factory=dict, description="Numeric tolerance per field path."
    )
    default_tolerance: Tolerance = Field(default_factory=lambda: Tolerance(rel=1e-6))
    ignore: list[FieldPath] = Field(default_factory=list, description="Fields left out of the comparison.")


class OutputContract(_Strict):
    """What the script must print on stdout: one JSON document valid against `json_schema`."""

    json_schema: dict[str, Any] = Field(alias="schema")
    compare: CompareRules = Field(default_factory=CompareRules)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("json_schema")
    @classmethod
    def _valid_schema(cls, value: dict[str, Any]) -> dict[str, Any]:
        try:
            jsonschema.Draft202012Validator.check_schema(value)
        except jsonschema.SchemaError as exc:
            raise ValueError(f"not a valid JSON Schema: {exc.message}") from exc
        return value

    def validate_output(self, output: Any) -> list[str]:
        """Problems with `output` against the schema (empty when valid), each naming the JSON path."""
        validator = jsonschema.Draft202012Validator(self.json_schema)
        problems = []
        for err in sorted(validator.iter_errors(output), key=lambda e: list(e.absolute_path)):
            path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err.absolute_path) or "(root)"
            problems.append(f"{path}: {err.message}")
        return problems


class InspectionPrompt(_Strict):
    """One catalogue entry: a question about a cloud account, with the contract its answer must meet."""

    id: str = Field(pattern=ID_PATTERN, description="Stable id, e.g. 'lambda-error-rate-24h'.")
    title: str = Field(min_length=3)
    description: str = Field(min_length=10)
    cloud: Literal["aws", "gcp", "azure"] = "aws"
    services: list[str] = Field(min_length=1, description="Service names as botocore knows them (ec2, s3, logs...).")
    category: Category
    tags: list[str] = Field(default_factory=list)
    variables: dict[str, Variable] = Field(default_factory=dict)
    template: str = Field(min_length=10, description="Jinja2 template of the request sent to the model.")
    adjustments: list[Adjustment] = Field(default_factory=list)
    contract: OutputContract
    reference: str | None = Field(
        default=None,
        description="File name of the canonical reference script; defaults to '<id>.py' beside the YAML.",
    )

    _source: Path | None = PrivateAttr(default=None)

    @field_validator("variables")
    @classmethod
    def _names(cls, value: dict[str, Variable]) -> dict[str, Variable]:
        for name in value:
            if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
                raise ValueError(f"variable name {name!r} must be snake_case")
        return value

    @property
    def source(self) -> Path | None:
        """The YAML file this prompt was loaded from."""
        return self._source

    @property
    def reference_path(self) -> Path | None:
        """The canonical reference script beside the YAML file."""
        if self._source is None:
            return None
        return self._source.with_name(self.reference or f"{self.id}.py")

    def reference_code(self) -> str:
        """The canonical script's source code."""
        path = self.reference_path
        if path is None or not path.is_file():
            from cloudinspect.errors import InputError

            raise InputError(f"prompt '{self.id}' has no reference script (expected {path})", self._source)
        return path.read_text(encoding="utf-8")
