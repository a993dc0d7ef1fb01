"""The results store: every run of the repair loop (and later of the benchmark) and every attempt, in SQLite.

from cloudinspect.store import ResultStore, RunInfo

with ResultStore() as store:                     # ~/.local/state/cloudinspect/results.sqlite by default
    info = RunInfo(prompt_id="s3-public-buckets", model_id="smollm2-135m", target="emulator:baseline")
    store.create_run(info)
    store.record_attempt(info.run_id, attempt)   # committed at once: a crash afterwards does not lose it
    store.finish_run(info.run_id, status="passed", final_code=code, output=output, duration_ms=812.0)
    print(store.run_record(info.run_id))
"""

from cloudinspect.store._errors import DuplicateRunError, SchemaVersionError, StoreError
from cloudinspect.store._models import RunInfo, RunState, StoredRun, new_run_id
from cloudinspect.store._schema import MIGRATIONS, Migration
from cloudinspect.store._store import BUSY_TIMEOUT_S, ResultStore, default_path

__all__ = [
    "BUSY_TIMEOUT_S",
    "MIGRATIONS",
    "DuplicateRunError",
    "Migration",
    "ResultStore",
    "RunInfo",
    "RunState",
    "SchemaVersionError",
    "StoreError",
    "StoredRun",
    "default_path",
    "new_run_id",
]
