"""Settings: where cloudinspect keeps its state and which user files extend the built-in data.

Every setting can come from the environment with the prefix CLOUDINSPECT_ (for example
CLOUDINSPECT_STATE_DIR, CLOUDINSPECT_CATALOG_DIRS='["~/my-prompts"]').
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from pathlib import Path

import platformdirs
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def resources_dir() -> Path:
    """The data shipped with the package (catalogue, scenarios, models.yaml, templates)."""
    return Path(str(files("cloudinspect") / "resources"))


class Settings(BaseSettings):
    """User-level settings."""

    model_config = SettingsConfigDict(env_prefix="CLOUDINSPECT_", extra="ignore")

    state_dir: Path = Field(
        default_factory=lambda: Path(platformdirs.user_state_dir("cloudinspect")),
        description="Where pid files, logs and run databases live.",
    )
    cache_dir: Path = Field(
        default_factory=lambda: Path(platformdirs.user_cache_dir("cloudinspect")),
        description="Where derived files (assembled model weights) are cached.",
    )
    catalog_dirs: list[Path] = Field(
        default_factory=list,
        description="User catalogue directories; their prompts override built-ins with the same id.",
    )
    scenario_dirs: list[Path] = Field(
        default_factory=list,
        description="User scenario directories; their scenarios override built-ins with the same name.",
    )
    model_files: list[Path] = Field(
        default_factory=list,
        description="User model registry files; their entries override built-ins with the same id.",
    )

    @field_validator("state_dir", "cache_dir", mode="after")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @field_validator("catalog_dirs", "scenario_dirs", "model_files", mode="after")
    @classmethod
    def _expand_all(cls, value: list[Path]) -> list[Path]:
        return [v.expanduser() for v in value]


@cache
def get_settings() -> Settings:
    """The process-wide settings (read once from the environment)."""
    return Settings()
