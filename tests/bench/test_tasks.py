"""Selecting the benchmark's tasks from the catalogue, and the matrix of cells."""

from __future__ import annotations

import pytest

from cloudinspect.bench import BenchConfig, build_cells, select_tasks
from cloudinspect.catalog import load_catalog
from cloudinspect.errors import InputError


def test_selectors_of_every_kind_pick_the_union_in_id_order() -> None:
    tasks = select_tasks(["s3-public-*", "service:sns", "category:logs", "tag:pagination"], ["baseline", "startup"])
    catalog = load_catalog()
    ids = [task.prompt_id for task in tasks]

    assert ids == sorted(ids)
    assert len(ids) == len(set(ids))
    expected = {
        p.id
        for p in (catalog[pid] for pid in catalog)
        if p.id.startswith("s3-public-") or "sns" in p.services or p.category.value == "logs" or "pagination" in p.tags
    }
    assert set(ids) == expected
    assert "s3-public-buckets" in ids
    assert "s3-largest-buckets" in ids
    task = tasks[ids.index("s3-public-buckets")]
    assert (task.service, task.category, task.scenarios) == ("s3", "security", ["baseline", "startup"])


def test_star_selects_the_whole_catalogue() -> None:
    assert [t.prompt_id for t in select_tasks(["*"], ["startup"])] == list(load_catalog())


@pytest.mark.parametrize(
    ("selectors", "scenarios", "message"),
    [
        (["region:us-east-1"], ["baseline"], "bad prompt selector 'region:us-east-1'"),
        (["service:"], ["baseline"], "bad prompt selector 'service:'"),
        (["s3-*", "lambda-nothing-*"], ["baseline"], "prompt selector 'lambda-nothing-\\*' selects no prompt"),
        (["tag:no-such-tag"], ["baseline"], "'tag:no-such-tag' selects no prompt"),
        (["*"], ["baseline", "atlantis"], "unknown scenario 'atlantis'"),
        (["*"], ["baseline", "baseline"], "a scenario is selected twice"),
        ([], ["baseline"], "no prompt selector"),
    ],
)
def test_bad_selections_name_the_culprit(selectors: list[str], scenarios: list[str], message: str) -> None:
    with pytest.raises(InputError, match=message):
        select_tasks(selectors, scenarios)


def test_the_matrix_has_every_model_task_and_repeat_once_with_models_interleaved() -> None:
    config = BenchConfig(models=["a", "b"], prompts=["service:sns"], scenarios=["startup"], repeat=2)
    tasks = select_tasks(config.prompts, config.scenarios)
    cells = build_cells(config, tasks)

    assert len(cells) == 2 * len(tasks) * 2
    assert len({cell.key for cell in cells}) == len(cells)
    assert [cell.model_id for cell in cells[:4]] == ["a", "b", "a", "b"]
    assert cells[0].key == f"a|{tasks[0].prompt_id}|0"
