"""Loading the prompt catalogue: built-in prompts plus user directories that override them by id."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cloudinspect.catalog.schema import InspectionPrompt
from cloudinspect.config import get_settings, resources_dir
from cloudinspect.errors import InputError, Problem, UnknownIdError
from cloudinspect.yamlfiles import iter_yaml_files, load_model


def builtin_catalog_dir() -> Path:
    """The catalogue shipped with cloudinspect."""
    return resources_dir() / "catalog"


def load_prompt_file(path: Path) -> InspectionPrompt:
    """Load and validate one prompt file (its id must match the file name)."""
    prompt = load_model(path, InspectionPrompt)
    if prompt.id != path.stem:
        raise InputError(
            "prompt id does not match the file name",
            path,
            [Problem(f"id is '{prompt.id}' but the file is '{path.name}' (expected '{prompt.id}.yaml')", "id")],
        )
    prompt._source = path
    return prompt


@dataclass
class Catalog(Mapping[str, InspectionPrompt]):
    """All prompts by id, in id order."""

    prompts: dict[str, InspectionPrompt] = field(default_factory=dict)

    def __getitem__(self, prompt_id: str) -> InspectionPrompt:
        try:
            return self.prompts[prompt_id]
        except KeyError:
            raise UnknownIdError.of("prompt", prompt_id, list(self.prompts)) from None

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self.prompts))

    def __len__(self) -> int:
        return len(self.prompts)

    def select(
        self,
        *,
        ids: Iterable[str] = (),
        services: Iterable[str] = (),
        tags: Iterable[str] = (),
        categories: Iterable[str] = (),
    ) -> list[InspectionPrompt]:
        """Prompts matching every given filter; `ids` are glob patterns; each filter matches any of its values."""
        id_globs, svc, tag, cat = list(ids), set(services), set(tags), set(categories)
        chosen = []
        for prompt_id in self:
            p = self.prompts[prompt_id]
            if id_globs and not any(fnmatch.fnmatchcase(p.id, g) for g in id_globs):
                continue
            if svc and not svc & set(p.services):
                continue
            if tag and not tag & set(p.tags):
                continue
            if cat and p.category.value not in cat:
                continue
            chosen.append(p)
        return chosen

    @property
    def services(self) -> list[str]:
        """Every service that at least one prompt covers."""
        return sorted({s for p in self.prompts.values() for s in p.services})


def _load_dir(root: Path) -> dict[str, InspectionPrompt]:
    found: dict[str, InspectionPrompt] = {}
    for path in iter_yaml_files(root):
        prompt = load_prompt_file(path)
        if prompt.id in found:
            raise InputError(
                f"duplicate prompt id '{prompt.id}' (also in {found[prompt.id].source})",
                path,
                [Problem("", "id")],
            )
        found[prompt.id] = prompt
    return found


def load_catalog(extra_dirs: Iterable[Path] | None = None, *, include_builtin: bool = True) -> Catalog:
    """Load the built-in catalogue and the user's directories (settings), later ones overriding by id."""
    dirs = [builtin_catalog_dir()] if include_builtin else []
    dirs += list(get_settings().catalog_dirs if extra_dirs is None else extra_dirs)
    prompts: dict[str, InspectionPrompt] = {}
    for root in dirs:
        if not root.is_dir():
            raise InputError("catalogue directory does not exist", root)
        prompts.update(_load_dir(root))
    return Catalog(prompts)
