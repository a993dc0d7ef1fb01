"""What can go wrong with a results store, each naming the database file so that the user knows which one."""

from __future__ import annotations

from pathlib import Path

from cloudinspect.errors import CloudInspectError


class StoreError(CloudInspectError):
    """The results store cannot do what was asked: the file is not a store, is damaged, or refused a write."""

    def __init__(self, path: Path, message: str) -> None:
        self.path = path
        super().__init__(f"results store {path}: {message}")


class SchemaVersionError(StoreError):
    """The file was written by a newer cloudinspect whose schema this code does not know."""

    def __init__(self, path: Path, found: int, supported: int) -> None:
        self.found = found
        self.supported = supported
        super().__init__(
            path,
            f"schema version {found} is newer than this cloudinspect supports ({supported}); "
            "upgrade cloudinspect or point it at another file (CLOUDINSPECT_STATE_DIR)",
        )


class DuplicateRunError(StoreError):
    """A run with this id is already stored; run ids are never reused."""

    def __init__(self, path: Path, run_id: str) -> None:
        self.run_id = run_id
        super().__init__(path, f"run '{run_id}' already exists")
