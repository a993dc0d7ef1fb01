"""Catalogue loading: schema validation errors name file, field and line; user dirs override by id."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from cloudinspect.catalog import load_catalog, load_prompt_file
from cloudinspect.errors import InputError, UnknownIdError

GOOD = textwrap.dedent(
    """\
    id: demo-prompt
    title: A demo prompt
    description: Lists things for the tests of the loader.
    services: [s3]
    category: resources
    variables:
      prefix:
        type: string
        description: Name prefix
        default: ""
    template: "List the buckets starting with {{ prefix }} and print JSON."
    contract:
      schema: {type: object, required: [buckets], properties: {buckets: {type: array}}}
      compare:
        keys: {buckets: [name]}
    """
)


def write_prompt(root: Path, text: str, name: str = "demo-prompt") -> Path:
    path = root / "aws" / "s3" / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.with_suffix(".py").write_text("print('{\"buckets\": []}')\n")
    return path


def test_valid_prompt_loads_with_reference(tmp_path: Path) -> None:
    prompt = load_prompt_file(write_prompt(tmp_path, GOOD))
    assert prompt.id == "demo-prompt"
    assert prompt.reference_path == tmp_path / "aws" / "s3" / "demo-prompt.py"
    assert "buckets" in prompt.reference_code()


def test_unknown_field_names_field_and_line(tmp_path: Path) -> None:
    path = write_prompt(tmp_path, GOOD.replace("category: resources", "category: resources\ncatgory: typo"))
    with pytest.raises(InputError) as info:
        load_prompt_file(path)
    err = info.value
    assert err.exit_code == 2
    assert str(path) in str(err)
    problem = next(p for p in err.problems if p.field == "catgory")
    assert problem.line == 6
    assert "unknown field" in problem.message


def test_wrong_enum_names_nested_field(tmp_path: Path) -> None:
    path = write_prompt(tmp_path, GOOD.replace("type: string", "type: text"))
    with pytest.raises(InputError) as info:
        load_prompt_file(path)
    problem = info.value.problems[0]
    assert problem.field == "variables.prefix.type"
    assert problem.line == 8
    assert "'text'" in problem.message


def test_malformed_yaml_gives_line(tmp_path: Path) -> None:
    path = write_prompt(tmp_path, GOOD.replace("services: [s3]", "services: [s3"))
    with pytest.raises(InputError) as info:
        load_prompt_file(path)
    assert "malformed YAML" in str(info.value)
    assert info.value.problems[0].line is not None


def test_invalid_json_schema_in_contract(tmp_path: Path) -> None:
    path = write_prompt(tmp_path, GOOD.replace("{type: object,", "{type: objekt,"))
    with pytest.raises(InputError) as info:
        load_prompt_file(path)
    assert any(p.field == "contract.schema" and "JSON Schema" in p.message for p in info.value.problems)


def test_id_must_match_file_name(tmp_path: Path) -> None:
    path = write_prompt(tmp_path, GOOD, name="other-name")
    with pytest.raises(InputError, match="does not match the file name"):
        load_prompt_file(path)


def test_optional_variable_needs_default(tmp_path: Path) -> None:
    path = write_prompt(tmp_path, GOOD.replace('    default: ""\n', ""))
    with pytest.raises(InputError, match="optional variable needs a default"):
        load_prompt_file(path)


def test_user_dir_overrides_builtin_by_id(tmp_path: Path) -> None:
    builtin = load_catalog([])
    some_id = next(iter(builtin))
    text = GOOD.replace("demo-prompt", some_id).replace("A demo prompt", "Overridden title")
    write_prompt(tmp_path, text, name=some_id)
    merged = load_catalog([tmp_path])
    assert merged[some_id].title == "Overridden title"
    assert len(merged) == len(builtin)


def test_duplicate_ids_in_one_dir_are_refused(tmp_path: Path) -> None:
    write_prompt(tmp_path, GOOD)
    dup = tmp_path / "aws" / "other" / "demo-prompt.yaml"
    dup.parent.mkdir(parents=True)
    dup.write_text(GOOD)
    with pytest.raises(InputError, match="duplicate prompt id"):
        load_catalog([tmp_path], include_builtin=False)


def test_unknown_id_suggests_close_match() -> None:
    catalog = load_catalog([])
    some_id = next(iter(catalog))
    with pytest.raises(UnknownIdError, match="did you mean"):
        catalog[some_id[:-1] + "x"]


def test_missing_catalog_dir_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        load_catalog([tmp_path / "nope"])
