"""The warm pool: sandbox "warm", the process sandbox without the cold start.

Each pool (one per endpoint, isolation, rlimits and bridge policy; created lazily, closed at exit) keeps `size`
pre-started children ready. A child is exactly what the cold path (process.py) starts: its own throw-away work
directory, its own random unprivileged uid, its own bridge (the only way out with full isolation), bubblewrap
with the same read-only view and no network, the same rlimits, the same launcher. The one difference is timing:
the launcher runs in warm mode, imports boto3, botocore and the runtime guard, prints a READY line and blocks on
stdin. A run sends the child its whole environment (target variables, CLOUDINSPECT_VARS) as one JSON line; the
child replaces its environment with it and runs the script, once. The child then exits, its uid is swept, its
work directory removed and its bridge closed, and the pool starts a replacement in the background.

So no process ever serves two runs: nothing (environment, credentials, files, imported modules, monkeypatches)
survives from one run to the next, and a child never holds a run's credentials before that run. The wall-clock
timeout and the output caps start when the run is sent; the CPU limit also counts the child's warm-up (a
fraction of a second).

Real AWS under full isolation (`Endpoint(None)`, an `aws:` target) takes the re-signing route of the cold path:
the child's bridge starts with an empty `ResignerSlot` (it signs nothing, so a request arriving before its run
is refused with BridgeResignError), and `run(..., resign=)` puts the run's own `Resigner` (its credentials,
scoped by the session policy derived from that run's script) in the slot just before the run's environment is
sent, and takes it out when the run ends. The child holds only the dummy keys of that environment. One pool
serves every `aws:` run of the same shape, whatever their profile, role, region or script.

Warm-up, besides the imports: one botocore data loader shared by every session of the child, with the models of
`preload` (default ec2, iam, s3, sts) parsed by building throw-away clients (no credentials, no endpoint, nothing
of any run), so that a script's first client costs tens of milliseconds instead of hundreds; then `gc.freeze()`,
so the collector (and interpreter exit) skip what the warm-up built. The cost moves to the background refill: a
child takes longer to warm than a cold run takes to start, so runs arriving faster than the pool refills wait
(see benchmarks/sandbox_overhead.py, "back-to-back").

Pools are keyed by endpoint URL (None for real AWS), isolation, rlimits, bridge policy, size, backend, guard and
preload, never by a run's re-signer; at most MAX_POOLS live at once (least recently used closed first), all are
closed at interpreter exit, and `execute` closes the pool of an `emulator:` target when it stops that emulator.
Size: `WarmSandbox(size=...)`, else per endpoint while `pool_sizes({url: n})` is open, else
CLOUDINSPECT_WARM_POOL_SIZE, else 2.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import json
import os
import selectors
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from cloudinspect.sandbox.base import Endpoint, Isolation, Limits, Sandbox, SandboxError, register_sandbox
from cloudinspect.sandbox.process import (
    FORWARD_PORT,
    SCRIPT_NAME,
    SOCKET_NAME,
    Backend,
    ProcessSandbox,
    _bwrap_argv,
    _collect,
    _kill_uid,
    _read_guard_log,
    _sandbox_uid,
    _spawn,
    _unshare_argv,
    build_result,
    child_environment,
    open_bridge,
    which_backend,
)
from cloudinspect.sandbox.resign import Resigner, ResignerSlot
from cloudinspect.sandbox.result import ExecResult

READY = b"cloudinspect-warm-ready\n"  # what the launcher (_launcher.py) prints once warm
DEFAULT_POOL_SIZE = 2
DEFAULT_PRELOAD = ("ec2", "iam", "s3", "sts")
MAX_POOLS = 4
READY_TIMEOUT_S = 60.0
POOL_SIZE_ENV = "CLOUDINSPECT_WARM_POOL_SIZE"

_PoolKey = tuple[Any, ...]


@dataclass
class _Child:
    """One pre-started sandboxed process, used for exactly one run."""

    proc: Any
    uid: int
    root: bool
    work: Path
    backend: Backend
    bridge: Any = None
    slot: ResignerSlot | None = None
    """The bridge's re-signer on the real-AWS route, filled with the run's Resigner at hand-over."""
    guard_env: dict[str, str] = field(default_factory=dict)
    guard_log: Path | None = None

    def kill(self, pid: int | None = None) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid if pid is None else pid, signal.SIGKILL)
        if self.root:
            _kill_uid(self.uid)

    def dispose(self) -> None:
        """Kill whatever is left of the child, close its bridge and pipes, remove its work directory."""
        self.kill()
        with contextlib.suppress(Exception):
            self.proc.wait(timeout=5)
        for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()
        if self.slot is not None:
            self.slot.set(None)
        if self.bridge is not None:
            self.bridge.close()
            self.bridge = None
        shutil.rmtree(self.work, ignore_errors=True)


def _await_ready(proc: Any, timeout: float) -> bool:
    """Read exactly the READY line from the child's stdout (nothing more: the rest is the run's output)."""
    fd = proc.stdout.fileno()
    got = b""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while len(got) < len(READY):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not selector.select(timeout=remaining):
                return False
            data = os.read(fd, len(READY) - len(got))
            if not data:
                return False
            got += data
    return got == READY


class WarmPool:
    """Pre-started sandboxed children for one endpoint; thread-safe; `close()` leaves no process behind.

    `Endpoint(None)` under full isolation is the real-AWS route: each run brings its re-signer (`run(resign=)`);
    an endpoint's own `resign` is ignored, so that no run's credentials outlive it in the pool.
    """

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        limits: Limits | None = None,
        isolation: Isolation = "full",
        size: int = DEFAULT_POOL_SIZE,
        backend: Literal["auto", "bwrap", "unshare"] = "auto",
        use_guard: bool = True,
        preload: tuple[str, ...] = DEFAULT_PRELOAD,
    ) -> None:
        if size < 1:
            raise SandboxError(f"a warm pool needs at least one child, not {size}")
        self.endpoint = Endpoint(endpoint.url, endpoint.allow)
        self.resigning = endpoint.url is None and isolation == "full"
        """Whether this pool's children reach real AWS through a re-signing bridge (each run brings its signer)."""
        self.limits = limits or Limits()
        self.isolation: Isolation = isolation
        self.size = size
        self.backend: Backend = which_backend(backend)
        self.use_guard = use_guard
        self.preload = preload
        self._root = os.geteuid() == 0
        self._ready: collections.deque[_Child] = collections.deque()
        self._cond = threading.Condition()
        self._closed = False
        self._error: BaseException | None = None
        self._uids: set[int] = set()
        self._cleanups: set[threading.Thread] = set()
        self._filler = threading.Thread(target=self._fill, name="cloudinspect-warm-pool", daemon=True)
        self._filler.start()

    # -- children -----------------------------------------------------------------------------------------------

    def _new_uid(self) -> int:
        if not self._root:
            return os.getuid()
        while True:
            uid = _sandbox_uid()
            with self._cond:
                if uid not in self._uids:
                    self._uids.add(uid)
                    return uid

    def _start_child(self) -> _Child:
        """Start one child exactly as the cold path would, in warm mode, and wait for its READY line."""
        uid = self._new_uid()
        work = Path(tempfile.mkdtemp(prefix="cloudinspect-exec-")).resolve()
        child = _Child(proc=None, uid=uid, root=self._root, work=work, backend=self.backend)
        try:
            if self._root:
                os.chown(work, uid, uid)
            config: dict[str, Any] = {"script": str(work / SCRIPT_NAME), "warm": True, "preload": list(self.preload)}
            ro_paths: list[Path] = []
            if self.use_guard:
                guard_env, guard_log, guard_dir = ProcessSandbox()._guard(work)
                child.guard_log = guard_log
                child.guard_env = {k: v for k, v in guard_env.items() if k.startswith(("AWS_", "CLOUDINSPECT_GUARD_"))}
                if guard_dir is not None:
                    config["guard"] = str(guard_dir)
                    if not guard_dir.is_relative_to(work):
                        ro_paths.append(guard_dir)
            if self.isolation == "full":
                if self.resigning:
                    child.slot = ResignerSlot()
                endpoint = Endpoint(self.endpoint.url, self.endpoint.allow, resign=child.slot)
                child.bridge = open_bridge(endpoint, work / SOCKET_NAME, uid if self._root else None)
                config["forward"] = {"port": FORWARD_PORT, "socket": str(work / SOCKET_NAME)}
            # Nothing of any target in the warm-up environment: the run's variables arrive with the run.
            env = child_environment({}, work)
            env["CLOUDINSPECT_SANDBOX"] = json.dumps(config)
            build = _bwrap_argv if self.backend == "bwrap" else _unshare_argv
            argv = build(work, uid if self._root else None, self.isolation == "full", ro_paths)
            child.proc = _spawn(argv, env, self.limits, stdin=subprocess.PIPE)
            if not _await_ready(child.proc, READY_TIMEOUT_S):
                stderr = b""
                child.kill()
                with contextlib.suppress(Exception):
                    stderr = child.proc.stderr.read(4000) or b""
                raise SandboxError(f"a warm sandbox child did not start: {stderr.decode(errors='replace')[-2000:]}")
        except BaseException:
            if child.proc is None:
                if child.bridge is not None:
                    child.bridge.close()
                shutil.rmtree(work, ignore_errors=True)
            else:
                child.dispose()
            self._release_uid(uid)
            raise
        return child

    def _release_uid(self, uid: int) -> None:
        with self._cond:
            self._uids.discard(uid)

    def _fill(self) -> None:
        """Background: keep `size` children ready; stop at close() or at the first failure (reported to run())."""
        while True:
            with self._cond:
                while not self._closed and len(self._ready) >= self.size:
                    self._cond.wait()
                if self._closed:
                    return
            try:
                child = self._start_child()
            except BaseException as exc:  # handed to the callers of run()
                with self._cond:
                    self._error = exc
                    self._cond.notify_all()
                return
            with self._cond:
                if not self._closed:
                    self._ready.append(child)
                    self._cond.notify_all()
                    continue
            child.dispose()
            self._release_uid(child.uid)
            return

    def _acquire(self, timeout: float) -> _Child:
        deadline = time.monotonic() + timeout
        dead: list[_Child] = []
        try:
            with self._cond:
                while True:
                    while self._ready:
                        child = self._ready.popleft()
                        self._cond.notify_all()  # the filler starts a replacement
                        if child.proc.poll() is None:
                            return child
                        dead.append(child)
                    if self._closed:
                        raise SandboxError("the warm pool is closed")
                    if self._error is not None:
                        raise SandboxError(f"the warm pool cannot start children: {self._error}") from self._error
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise SandboxError(f"no warm sandbox child became ready within {timeout:g} s")
                    self._cond.wait(remaining)
        finally:
            for child in dead:
                child.dispose()
                self._release_uid(child.uid)

    # -- public -------------------------------------------------------------------------------------------------

    @property
    def ready(self) -> int:
        """How many children are ready now."""
        with self._cond:
            return len(self._ready)

    @property
    def broken(self) -> bool:
        with self._cond:
            return self._error is not None or self._closed

    def wait_ready(self, count: int | None = None, timeout: float = READY_TIMEOUT_S) -> bool:
        """Block until `count` (default: size) children are ready; False on timeout or failure."""
        want = self.size if count is None else min(count, self.size)
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self._ready) < want:
                remaining = deadline - time.monotonic()
                if self._error is not None or self._closed or remaining <= 0:
                    return False
                self._cond.wait(remaining)
        return True

    def pids(self) -> list[int]:
        """Process ids of the ready children (tests)."""
        with self._cond:
            return [c.proc.pid for c in self._ready]

    def run(
        self, code: str, env: Mapping[str, str], limits: Limits | None = None, *, resign: Resigner | None = None
    ) -> ExecResult:
        """Run `code` in a ready child with the target environment `env`; same result as ProcessSandbox.run.

        `limits`: the wall-clock timeout and output caps apply per run; the rlimits are the pool's (set when the
        child started). `resign`: this run's re-signer, required on the real-AWS route and refused elsewhere.
        """
        limits = limits or self.limits
        if self.resigning and resign is None:
            raise SandboxError(
                "this warm pool reaches real AWS through the re-signing bridge: pass the run's Resigner "
                "(execute() does for aws: targets)"
            )
        if resign is not None and not self.resigning:
            raise SandboxError(
                f"this warm pool has no re-signing bridge (endpoint {self.endpoint.url}, isolation {self.isolation}): "
                "a re-signer is for real AWS under full isolation"
            )
        child = self._acquire(READY_TIMEOUT_S)
        try:
            result = self._run_in(child, code, env, limits, resign)
        except BaseException:
            self._dispose(child)
            raise
        # The child and every process of its uid are dead (_collect swept them); closing its bridge and removing
        # its work directory need not delay the result. close() and settle() wait for it.
        cleanup = threading.Thread(target=self._dispose, args=(child,), name="cloudinspect-warm-cleanup")
        with self._cond:
            self._cleanups.add(cleanup)
        cleanup.start()
        return result

    def _dispose(self, child: _Child) -> None:
        try:
            child.dispose()
        finally:
            self._release_uid(child.uid)
            with self._cond:
                self._cleanups.discard(threading.current_thread())

    def settle(self, timeout: float = 30.0) -> None:
        """Wait until the children of finished runs are cleaned up (work directories removed, bridges closed)."""
        with self._cond:
            pending = list(self._cleanups)
        for thread in pending:
            thread.join(timeout)

    def _run_in(
        self, child: _Child, code: str, env: Mapping[str, str], limits: Limits, resign: Resigner | None
    ) -> ExecResult:
        start = time.perf_counter()
        script = child.work / SCRIPT_NAME
        script.write_text(code, encoding="utf-8")
        if child.root:
            os.chown(script, child.uid, child.uid)
        run_env = child_environment(env, child.work)
        run_env.update(child.guard_env)
        if child.bridge is not None:
            run_env["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{FORWARD_PORT}"
        if child.slot is not None:
            child.slot.set(resign)  # the run's credentials, held by the bridge, from this run's start to its end
        try:
            with contextlib.suppress(BrokenPipeError):  # a dead child: its exit status tells
                child.proc.stdin.write((json.dumps({"env": run_env}) + "\n").encode())
                child.proc.stdin.close()
            captured = _collect(child.proc, limits, child.kill, start)
        finally:
            if child.slot is not None:
                child.slot.set(None)
        bridge_calls = list(child.bridge.calls) if child.bridge is not None else []
        guard_calls = _read_guard_log(child.guard_log)
        return build_result(
            captured,
            str(script),
            guard_calls,
            bridge_calls,
            limits,
            backend=f"{child.backend}+warm",
            isolation=self.isolation,
        )

    def close(self) -> None:
        """Stop replenishing and dispose of every ready child (a run in progress finishes and cleans up itself)."""
        with self._cond:
            self._closed = True
            children = list(self._ready)
            self._ready.clear()
            self._cond.notify_all()
        self._filler.join(timeout=READY_TIMEOUT_S + 5)
        for child in children:
            child.dispose()
            self._release_uid(child.uid)
        self.settle()

    def __enter__(self) -> WarmPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- the pools of this process ----------------------------------------------------------------------------------

_POOLS: collections.OrderedDict[_PoolKey, WarmPool] = collections.OrderedDict()
_POOLS_LOCK = threading.Lock()


def _rlimit_key(limits: Limits) -> tuple[int, ...]:
    return (limits.cpu_s, limits.memory_mb, limits.file_size_mb, limits.open_files, limits.processes)


def get_pool(
    endpoint: Endpoint,
    *,
    limits: Limits | None = None,
    isolation: Isolation = "full",
    size: int = DEFAULT_POOL_SIZE,
    backend: Literal["auto", "bwrap", "unshare"] = "auto",
    use_guard: bool = True,
    preload: tuple[str, ...] = DEFAULT_PRELOAD,
) -> WarmPool:
    """The shared pool for this endpoint and shape, created on first use; the least recently used of more than
    MAX_POOLS pools is closed (an `emulator:` target gets a new endpoint each time). `endpoint.resign` is not part
    of the shape: the real-AWS pool (`Endpoint(None)`, full isolation) serves every run, each with its re-signer."""
    limits = limits or Limits()
    key: _PoolKey = (endpoint.url, endpoint.allow, isolation, _rlimit_key(limits), size, backend, use_guard, preload)
    evicted: list[WarmPool] = []
    with _POOLS_LOCK:
        pool = _POOLS.get(key)
        if pool is not None and pool.broken:
            evicted.append(_POOLS.pop(key))
            pool = None
        if pool is None:
            pool = WarmPool(
                endpoint,
                limits=limits,
                isolation=isolation,
                size=size,
                backend=backend,
                use_guard=use_guard,
                preload=preload,
            )
            _POOLS[key] = pool
        _POOLS.move_to_end(key)
        while len(_POOLS) > MAX_POOLS:
            evicted.append(_POOLS.popitem(last=False)[1])
    for old in evicted:
        old.close()
    return pool


def close_pools(url: str | None = None) -> None:
    """Close the shared pools (of one endpoint URL, or all)."""
    with _POOLS_LOCK:
        keys = [k for k in _POOLS if url is None or k[0] == url]
        pools = [_POOLS.pop(k) for k in keys]
    for pool in pools:
        pool.close()


atexit.register(close_pools)


@contextlib.contextmanager
def warm_pool(endpoint: Endpoint, **options: Any) -> Iterator[WarmPool]:
    """A private pool closed on exit (benchmarks, tests)."""
    pool = WarmPool(endpoint, **options)
    try:
        yield pool
    finally:
        pool.close()


def _default_size() -> int:
    text = os.environ.get(POOL_SIZE_ENV, "")
    return int(text) if text.isdigit() and int(text) > 0 else DEFAULT_POOL_SIZE


_SIZE_BY_URL: dict[str, int] = {}
_PRELOAD_BY_URL: dict[str, tuple[str, ...]] = {}


@contextlib.contextmanager
def pool_sizes(sizes: Mapping[str, int], *, preload: tuple[str, ...] | None = None) -> Iterator[None]:
    """While open, the warm pools of these endpoint URLs keep the given number of children (unless a WarmSandbox
    is built with an explicit size), and warm them with `preload` instead of DEFAULT_PRELOAD when it is given: a
    benchmark sizes each emulator's pool to the load it will see (the first scenario's serves every repair loop,
    the others one grading run per cell) and preloads nothing, because under sustained load the refill is the
    bottleneck and a preloaded model costs every child ~0.25 s of CPU and ~37 MiB whether its script uses that
    service or not (BENCHMARKS.md, "Benchmark harness overhead")."""
    for url, size in sizes.items():
        if size < 1:
            raise SandboxError(f"a warm pool needs at least one child, not {size} (for {url})")
    with _POOLS_LOCK:
        previous = {url: (_SIZE_BY_URL.get(url), _PRELOAD_BY_URL.get(url)) for url in sizes}
        _SIZE_BY_URL.update(sizes)
        if preload is not None:
            _PRELOAD_BY_URL.update(dict.fromkeys(sizes, preload))
    try:
        yield
    finally:
        with _POOLS_LOCK:
            for url, (size_before, preload_before) in previous.items():
                _restore(_SIZE_BY_URL, url, size_before)
                _restore(_PRELOAD_BY_URL, url, preload_before)


def _restore(table: dict[str, Any], key: str, value: Any) -> None:
    if value is None:
        table.pop(key, None)
    else:
        table[key] = value


def size_for(url: str | None) -> int:
    """The size of the pools of endpoint `url`: set by `pool_sizes`, else CLOUDINSPECT_WARM_POOL_SIZE, else 2."""
    with _POOLS_LOCK:
        size = _SIZE_BY_URL.get(url) if url is not None else None
    return size or _default_size()


def preload_for(url: str | None) -> tuple[str, ...]:
    """The services whose models the children of `url`'s pools parse while warming (`pool_sizes`, else
    DEFAULT_PRELOAD)."""
    with _POOLS_LOCK:
        preload = _PRELOAD_BY_URL.get(url) if url is not None else None
    return DEFAULT_PRELOAD if preload is None else preload


@register_sandbox("warm")
class WarmSandbox(Sandbox):
    """The process sandbox served from a warm pool per endpoint: same isolation, no interpreter cold start."""

    def __init__(
        self,
        size: int | None = None,
        backend: Literal["auto", "bwrap", "unshare"] = "auto",
        *,
        use_guard: bool = True,
        pool_factory: Callable[..., WarmPool] = get_pool,
    ) -> None:
        self.size = size
        """Children per pool; None: per endpoint (`pool_sizes`), else CLOUDINSPECT_WARM_POOL_SIZE, else 2."""
        self.backend: Literal["auto", "bwrap", "unshare"] = backend
        self.use_guard = use_guard
        self._pool_factory = pool_factory

    def run(
        self,
        code: str,
        env: Mapping[str, str],
        *,
        endpoint: Endpoint,
        limits: Limits | None = None,
        isolation: Isolation = "full",
    ) -> ExecResult:
        limits = limits or Limits()
        pool = self._pool_factory(
            endpoint,
            limits=limits,
            isolation=isolation,
            size=self.size or size_for(endpoint.url),
            backend=self.backend,
            use_guard=self.use_guard,
            preload=preload_for(endpoint.url),
        )
        return pool.run(code, env, limits, resign=endpoint.resign)
