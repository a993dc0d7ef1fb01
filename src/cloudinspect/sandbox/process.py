"""The process sandbox: Linux namespaces (bubblewrap, or unshare as a weaker fallback), an unprivileged uid,
resource limits, a scrubbed environment, a throw-away work directory, and capped output.

How a run is laid out (bubblewrap, the parent running as root):

- A fresh work directory (mode 700, owned by a random unprivileged uid used by this run only) holds the script,
  the bridge's Unix socket and the guard's call log. It is bound at the same path inside, so paths agree on both
  sides, and removed afterwards whatever happens.
- bubblewrap runs privileged (no user namespace) so that it can bind the interpreter from under /root (mode 700),
  then `setpriv` drops to the run's uid with no capabilities and no_new_privs before Python starts. A real,
  unique, non-zero uid is what makes RLIMIT_NPROC count (the kernel exempts uid 0, even in a user namespace
  mapped to it) and count only this run's processes.
- The child sees /usr, a few files of /etc (TLS roots, time zone), the interpreter and the venv read-only, a
  private /tmp, /proc of its own pid namespace, a minimal /dev, and the work directory: nothing of /root, /home
  or /work beyond the bound interpreter and venv.
- Network: with isolation "full" a new network namespace holds only loopback; the launcher relays
  127.0.0.1:FORWARD_PORT to the bridge's Unix socket, and AWS_ENDPOINT_URL points there. The bridge (outside)
  parses, refuses and records every call.
- The environment is built from nothing: PATH, HOME (the work dir), LANG, Python settings, the target's AWS
  variables, CLOUDINSPECT_VARS. It is handed to bubblewrap through execve, never on a command line (argv is
  world-readable in /proc).
- Python runs as `python -I -B launcher.py`: isolated mode ignores PYTHON* variables and the user site, and the
  launcher puts the script's and the runtime guard's directories on sys.path itself; site-packages still come
  from the venv's pyvenv.cfg. The launcher starts the forwarder, then hands over to the guard (guard.py), which
  hooks botocore and runs the script as __main__.
- rlimits (CPU, AS, FSIZE, NOFILE, NPROC, CORE=0) are set before exec and inherited; a wall-clock timeout and
  the output caps SIGKILL bubblewrap's process group (its pid namespace dies with it) and every process of the
  run's uid.

The unshare fallback (no bubblewrap): new pid, ipc, uts and network namespaces and the same uid drop, rlimits,
environment and caps, but no file-system view of its own: the child sees the host's files as an unprivileged
"other" user would. It therefore requires the interpreter to be readable by that user (refused otherwise).
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import resource
import secrets
import selectors
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from cloudinspect.sandbox.base import Endpoint, Isolation, Limits, Sandbox, SandboxError, register_sandbox
from cloudinspect.sandbox.classify import classify_failure
from cloudinspect.sandbox.policy import observed_iam_policy
from cloudinspect.sandbox.result import ApiCallRecord, ErrorClass, ExecResult, Status, Violation

if TYPE_CHECKING:
    from cloudinspect.sandbox.bridge import Bridge

Backend = Literal["bwrap", "unshare"]
FORWARD_PORT = 4566
SCRIPT_NAME = "main.py"
SOCKET_NAME = "bridge.sock"
LAUNCHER_PATH = "/run/cloudinspect/launcher.py"
_LAUNCHER = Path(__file__).with_name("_launcher.py")
_UID_RANGE = (2_000_000, 3_000_000)
_ETC = ("/etc/ssl", "/etc/ca-certificates", "/etc/localtime", "/etc/nsswitch.conf", "/etc/host.conf")
_AWS_ENV_PREFIX = "AWS_"
_KILL_SIGNALS = {signal.SIGXCPU: "cpu time limit (RLIMIT_CPU)", signal.SIGKILL: "killed (SIGKILL)"}


def which_backend(preferred: Literal["auto", "bwrap", "unshare"] = "auto") -> Backend:
    """The namespace tool to use: bubblewrap when installed, else unshare; SandboxError when neither works."""
    if sys.platform != "linux":
        raise SandboxError("the process sandbox needs Linux namespaces; use the docker sandbox on this system")
    candidates: list[Backend] = ["bwrap", "unshare"] if preferred == "auto" else [preferred]
    for name in candidates:
        if shutil.which(name):
            return name
    raise SandboxError(
        "neither bubblewrap nor unshare is available: install bubblewrap (apt-get install -y bubblewrap) "
        "or util-linux's unshare"
    )


def _sandbox_uid() -> int:
    """A random unprivileged uid for one run (root only), so RLIMIT_NPROC counts this run's processes alone."""
    while True:
        uid = _UID_RANGE[0] + secrets.randbelow(_UID_RANGE[1] - _UID_RANGE[0])
        if not _uid_processes(uid):
            return uid


def _uid_processes(uid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("Uid:"):
                    if int(line.split()[1]) == uid:
                        found.append(int(entry.name))
                    break
    return found


def _kill_uid(uid: int) -> None:
    """SIGKILL every process of the run's uid (a belt on top of the pid namespace's braces)."""
    for _ in range(5):
        pids = _uid_processes(uid)
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.02)


def _readable_by_others(path: Path) -> bool:
    current = path.resolve()
    for part in [current, *current.parents]:
        mode = part.stat().st_mode
        if not mode & stat.S_IXOTH:
            return False
    return bool(current.stat().st_mode & stat.S_IROTH)


@dataclass
class _Captured:
    returncode: int | None
    stdout: bytes
    stderr: bytes
    duration_ms: float
    timed_out: bool = False
    capped: list[str] = field(default_factory=list)


def _rlimits(limits: Limits) -> Callable[[], None]:
    mb = 1024 * 1024
    values = [
        (resource.RLIMIT_CPU, (limits.cpu_s, limits.cpu_s + 1)),
        (resource.RLIMIT_AS, (limits.memory_mb * mb, limits.memory_mb * mb)),
        (resource.RLIMIT_FSIZE, (limits.file_size_mb * mb, limits.file_size_mb * mb)),
        (resource.RLIMIT_NOFILE, (limits.open_files, limits.open_files)),
        (resource.RLIMIT_NPROC, (limits.processes, limits.processes)),
        (resource.RLIMIT_CORE, (0, 0)),
    ]

    def apply() -> None:
        for which, value in values:
            resource.setrlimit(which, value)

    return apply


def _supervise(argv: list[str], env: dict[str, str], limits: Limits, kill: Callable[[int], None]) -> _Captured:
    """Run argv, read stdout/stderr incrementally under their caps, kill on timeout or overflow."""
    start = time.perf_counter()
    return _collect(_spawn(argv, env, limits), limits, kill, start)


def _spawn(argv: list[str], env: dict[str, str], limits: Limits, *, stdin: int = subprocess.DEVNULL) -> Any:
    """Start argv in a new session under the rlimits, stdout and stderr piped (the warm pool pipes stdin too)."""
    return subprocess.Popen(  # noqa: S603 - argv built by us; the script is data inside the sandbox
        argv,
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,
        close_fds=True,
        preexec_fn=_rlimits(limits),  # noqa: PLW1509 - only setrlimit calls, async-signal-safe enough
    )


def _collect(proc: Any, limits: Limits, kill: Callable[[int], None], start: float) -> _Captured:
    """Read a started child's stdout/stderr under their caps until it exits; kill on timeout or overflow."""
    if proc.stdout is None or proc.stderr is None:  # pragma: no cover - both are pipes
        raise SandboxError("no pipes to the sandboxed process")
    caps = {proc.stdout.fileno(): limits.stdout_bytes, proc.stderr.fileno(): limits.stderr_bytes}
    names = {proc.stdout.fileno(): "stdout", proc.stderr.fileno(): "stderr"}
    chunks: dict[int, list[bytes]] = {fd: [] for fd in caps}
    sizes = dict.fromkeys(caps, 0)
    deadline = time.monotonic() + limits.timeout_s
    captured = _Captured(None, b"", b"", 0.0)
    with selectors.DefaultSelector() as selector:
        for fd in caps:
            os.set_blocking(fd, False)
            selector.register(fd, selectors.EVENT_READ)
        while selector.get_map():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                captured.timed_out = True
                break
            for key, _ in selector.select(timeout=min(remaining, 0.5)):
                fd = int(key.fd)
                try:
                    data = os.read(fd, 65536)
                except BlockingIOError:
                    continue
                if not data:
                    selector.unregister(fd)
                    continue
                room = caps[fd] - sizes[fd]
                chunks[fd].append(data[: max(room, 0)])
                sizes[fd] += len(data)
                if sizes[fd] > caps[fd]:
                    captured.capped.append(names[fd])
            if captured.capped:
                break
    if captured.timed_out or captured.capped:
        kill(proc.pid)
    try:
        proc.wait(timeout=max(deadline - time.monotonic(), 0) + 5)
    except subprocess.TimeoutExpired:
        captured.timed_out = True
        kill(proc.pid)
        proc.wait(timeout=5)
    kill(proc.pid)  # stragglers: daemons the script left behind in its session
    captured.returncode = proc.returncode
    captured.stdout = b"".join(chunks[proc.stdout.fileno()])
    captured.stderr = b"".join(chunks[proc.stderr.fileno()])
    proc.stdout.close()
    proc.stderr.close()
    captured.duration_ms = (time.perf_counter() - start) * 1000
    return captured


def _optional(module: str, attr: str) -> Any:
    """A function of a part built separately (the guard); None until that module exists."""
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError):
        return None


@register_sandbox("process")
class ProcessSandbox(Sandbox):
    """Namespaces + unprivileged uid + rlimits + scrubbed environment; see the module docstring."""

    def __init__(self, backend: Literal["auto", "bwrap", "unshare"] = "auto", *, use_guard: bool = True) -> None:
        self.backend = backend
        self.use_guard = use_guard

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
        require_route(endpoint, isolation)
        backend = which_backend(self.backend)
        root = os.geteuid() == 0
        uid = _sandbox_uid() if root else os.getuid()
        work = Path(tempfile.mkdtemp(prefix="cloudinspect-exec-")).resolve()
        try:
            return self._run_in(work, uid, root, backend, code, env, endpoint, limits, isolation)
        finally:
            if root:
                _kill_uid(uid)
            shutil.rmtree(work, ignore_errors=True)

    def _run_in(
        self,
        work: Path,
        uid: int,
        root: bool,
        backend: Backend,
        code: str,
        env: Mapping[str, str],
        endpoint: Endpoint,
        limits: Limits,
        isolation: Isolation,
    ) -> ExecResult:
        script = work / SCRIPT_NAME
        script.write_text(code, encoding="utf-8")
        if root:
            os.chown(work, uid, uid)
            os.chown(script, uid, uid)
        child_env = child_environment(env, work)
        config: dict[str, Any] = {"script": str(script)}
        ro_paths: list[Path] = []
        guard_log: Path | None = None
        if self.use_guard:
            guard_env, guard_log, guard_dir = self._guard(work)
            if guard_dir is not None:
                config["guard"] = str(guard_dir)
                if not guard_dir.is_relative_to(work):
                    ro_paths.append(guard_dir)
            child_env.update({k: v for k, v in guard_env.items() if k.startswith(("AWS_", "CLOUDINSPECT_GUARD_"))})
        with contextlib.ExitStack() as stack:
            bridge: Any = None
            if isolation == "full":
                bridge = stack.enter_context(open_bridge(endpoint, work / SOCKET_NAME, uid if root else None))
                child_env["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{FORWARD_PORT}"
                config["forward"] = {"port": FORWARD_PORT, "socket": str(work / SOCKET_NAME)}
            child_env["CLOUDINSPECT_SANDBOX"] = json.dumps(config)
            build = _bwrap_argv if backend == "bwrap" else _unshare_argv
            argv = build(work, uid if root else None, isolation == "full", ro_paths)

            def kill(pid: int) -> None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pid, signal.SIGKILL)
                if root:
                    _kill_uid(uid)

            captured = _supervise(argv, child_env, limits, kill)
            bridge_calls = list(getattr(bridge, "calls", []) or []) if bridge is not None else []
        guard_calls = _read_guard_log(guard_log)
        return build_result(
            captured,
            str(script),
            guard_calls,
            bridge_calls,
            limits,
            backend=backend,
            isolation=isolation,
        )

    def _guard(self, work: Path) -> tuple[dict[str, str], Path | None, Path | None]:
        """The runtime guard's environment, call log and module directory (guard.py); nothing if it is absent."""
        guard_files = _optional("cloudinspect.sandbox.guard", "guard_files")
        guard_dir = _optional("cloudinspect.sandbox.guard", "guard_dir")
        if guard_files is None or guard_dir is None:
            return {}, None, None
        extra = {str(k): str(v) for k, v in guard_files(work, None).items()}
        log = extra.get("CLOUDINSPECT_GUARD_LOG")
        return extra, Path(log) if log else None, Path(guard_dir(work)).resolve()


def require_route(endpoint: Endpoint, isolation: Isolation) -> None:
    """SandboxError unless the run has a way to its endpoint: under full isolation, a URL for the bridge to
    forward to or a re-signer for real AWS. Checked before anything is started."""
    if isolation == "full" and endpoint.url is None and endpoint.resign is None:
        raise SandboxError(
            "full isolation reaches real AWS only through the re-signing bridge: pass an Endpoint with "
            "resign= (execute() does for aws: targets), or isolation 'none'"
        )


def open_bridge(endpoint: Endpoint, socket_path: Path, uid: int | None) -> Bridge:
    """Start the bridge of one run on `socket_path`, owned by the run's `uid` (None: ours): the sandbox's only way
    out under full isolation, forwarding to `endpoint.url`, or re-signing for real AWS with `endpoint.resign`.
    Every sandbox (cold, warm, Docker) starts its bridges here; the caller closes it (it is a context manager)."""
    from cloudinspect.sandbox.bridge import start_bridge

    require_route(endpoint, "full")
    options: dict[str, Any] = {} if endpoint.allow is None else {"allow": endpoint.allow}
    if endpoint.resign is not None:
        options["resign"] = endpoint.resign
    bridge = start_bridge(endpoint.url if endpoint.resign is None else None, socket_path, **options)
    if uid is not None:
        try:
            os.chown(socket_path, uid, uid)
        except BaseException:
            bridge.close()
            raise
    return bridge


def child_environment(target_env: Mapping[str, str], work: Path) -> dict[str, str]:
    """The child's whole environment: a minimal base plus the target's AWS variables and CLOUDINSPECT_VARS."""
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(work),
        "TMPDIR": str(work),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "PYTHONIOENCODING": "utf-8",
        "PYTHONNOUSERSITE": "1",
    }
    for key, value in target_env.items():
        if key.startswith(_AWS_ENV_PREFIX) or key == "CLOUDINSPECT_VARS":
            env[key] = value
    # One attempt: moto answers an operation it lacks with HTTP 500, which botocore would retry for seconds.
    env["AWS_MAX_ATTEMPTS"] = "1"
    env["AWS_RETRY_MODE"] = "standard"
    env.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    return env


def _python_paths() -> tuple[str, list[Path]]:
    """The interpreter to run and the directories it needs read-only (base install, venv)."""
    executable = sys.executable
    paths = {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve(), Path(sys.executable).resolve().parent}
    return executable, sorted(paths)


def _setpriv(uid: int) -> list[str]:
    return [
        "setpriv",
        f"--reuid={uid}",
        f"--regid={uid}",
        "--clear-groups",
        "--inh-caps=-all",
        "--bounding-set=-all",
        "--no-new-privs",
        "--",
    ]


def _bwrap_argv(work: Path, uid: int | None, no_network: bool, extra_ro: list[Path]) -> list[str]:
    python, python_dirs = _python_paths()
    argv = ["bwrap", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
    if no_network:
        argv.append("--unshare-net")
    if uid is None:
        argv += ["--unshare-user", "--disable-userns"]
    argv += ["--die-with-parent", "--new-session", "--hostname", "sandbox", "--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32"):
        path = Path(top)
        if path.is_symlink():
            argv += ["--symlink", os.readlink(path), top]
        elif path.is_dir():
            argv += ["--ro-bind", top, top]
    argv += ["--perms", "0755", "--dir", "/etc"]
    for etc in _ETC:
        argv += ["--ro-bind-try", etc, etc]
    argv += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--tmpfs", "/run"]  # noqa: S108
    # bubblewrap creates the missing parents of a mount point 0700, which the sandbox uid cannot traverse.
    made = {Path(p) for p in ("/", "/tmp", "/run", "/usr")}  # noqa: S108
    for path in [*python_dirs, *extra_ro, work]:
        for parent in reversed(path.parents):
            if parent not in made and not any(parent.is_relative_to(p) for p in python_dirs if p != path):
                argv += ["--perms", "0755", "--dir", str(parent)]
                made.add(parent)
    for path in [*python_dirs, *extra_ro]:
        argv += ["--ro-bind", str(path), str(path)]
    argv += ["--perms", "0755", "--dir", str(Path(LAUNCHER_PATH).parent), "--ro-bind", str(_LAUNCHER), LAUNCHER_PATH]
    argv += ["--bind", str(work), str(work), "--chdir", str(work)]
    if uid is not None:
        argv += ["--", *_setpriv(uid)]
    else:
        argv.append("--")
    return [*argv, python, "-I", "-B", LAUNCHER_PATH]


def _unshare_argv(work: Path, uid: int | None, no_network: bool, extra_ro: list[Path]) -> list[str]:
    python, python_dirs = _python_paths()
    if uid is None:
        raise SandboxError("the unshare fallback needs root (to drop to an unprivileged uid); install bubblewrap")
    unreadable = [p for p in [*python_dirs, _LAUNCHER] if not _readable_by_others(p)]
    if unreadable:
        raise SandboxError(
            "bubblewrap is not installed and the unshare fallback cannot hide /root: the interpreter is not "
            f"readable by an unprivileged user ({', '.join(map(str, unreadable))}); install bubblewrap "
            "(apt-get install -y bubblewrap)"
        )
    argv = ["unshare", "--fork", "--pid", "--mount-proc", "--ipc", "--uts", "--kill-child"]
    if no_network:
        argv.append("--net")
    # A fresh network namespace has loopback down: bring it up (as root, before the uid drop).
    up = "ip link set lo up 2>/dev/null; " if no_network else ""
    shell = ["/bin/sh", "-c", f'{up}exec "$@"', "sh"]
    return [*argv, "--", *shell, *_setpriv(uid), python, "-I", "-B", str(_LAUNCHER)]


def _read_guard_log(path: Path | None) -> list[dict[str, Any]]:
    if path is None or not path.is_file():
        return []
    records = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        with contextlib.suppress(ValueError):
            item = json.loads(line)
            if isinstance(item, dict):
                records.append(item)
    return records


def _record(item: Mapping[str, Any], source: Literal["guard", "bridge"]) -> ApiCallRecord:
    error_code = item.get("error_code")
    status = item.get("status")
    if error_code is None and isinstance(status, int) and status >= 400:
        error_code = str(status)
    duration = item.get("duration_ms")
    return ApiCallRecord(
        service=str(item.get("service", "")),
        operation=str(item.get("operation", "")),
        allowed=bool(item.get("allowed", True)),
        error_code=str(error_code) if error_code is not None else None,
        duration_ms=float(duration) if isinstance(duration, int | float) else None,
        source=source,
    )


def _parse_json(text: str) -> tuple[Any, bool]:
    stripped = text.strip()
    if not stripped:
        return None, False
    try:
        return json.loads(stripped), True
    except ValueError:
        return None, False


def build_result(
    captured: _Captured,
    script_path: str,
    guard_calls: list[dict[str, Any]],
    bridge_calls: list[dict[str, Any]],
    limits: Limits,
    *,
    backend: str,
    isolation: str,
) -> ExecResult:
    """Turn what the child did into an ExecResult: status, error class, trimmed traceback, calls, violations."""
    stdout = captured.stdout.decode("utf-8", errors="replace")
    stderr = captured.stderr.decode("utf-8", errors="replace")
    guard = [_record(c, "guard") for c in guard_calls]
    bridge = [_record(c, "bridge") for c in bridge_calls]
    api_calls = guard or bridge
    blocked = [c for c in guard + bridge if not c.allowed]
    violations = [Violation(kind="blocked_call", detail=f"{c.source}: {c.service}.{c.operation}") for c in blocked]
    if bridge and guard and len(bridge) > len(guard):
        violations.append(
            Violation(kind="guard_bypass", detail=f"the bridge saw {len(bridge)} calls, the guard {len(guard)}")
        )
    output, is_json = _parse_json(stdout)
    code = captured.returncode
    status: Status
    error_class: ErrorClass = "none"
    message: str | None = None
    trace: str | None = None
    signal_name = _signal_of(code)
    if captured.timed_out:
        status, error_class = "timeout", "timeout"
        message = f"wall-clock limit of {limits.timeout_s:g} s reached"
        violations.append(Violation(kind="timeout", detail=message))
    elif captured.capped:
        status, error_class = "killed", "resource_limit"
        caps = {"stdout": limits.stdout_bytes, "stderr": limits.stderr_bytes}
        message = "; ".join(f"{name} exceeded {caps[name]} bytes" for name in captured.capped)
        violations.append(Violation(kind="output_limit", detail=message))
    elif signal_name is not None:
        status, error_class = "killed", "resource_limit"
        message = signal_name
        violations.append(Violation(kind="resource_limit", detail=signal_name))
    elif code == 0:
        status = "ok" if is_json else "error"
        if not is_json:
            error_class, message = "output_not_json", "stdout is not a JSON document"
    else:
        failure = classify_failure(stderr, script_path)
        error_class, message, trace = failure.error_class, failure.message, failure.traceback
        if failure.exception:
            message = f"{failure.exception}: {failure.message}"
        status = "error"
        if error_class == "emulator_unsupported":
            status = "unsupported"
        elif error_class == "resource_limit":
            violations.append(Violation(kind="resource_limit", detail=failure.message[:300]))
    if blocked:
        status, error_class = "blocked", "read_only_violation"
    return ExecResult(
        status=status,
        exit_code=code,
        stdout=stdout,
        stderr=stderr,
        duration_ms=round(captured.duration_ms, 1),
        output_json=output if is_json else None,
        api_calls=api_calls,
        blocked_calls=blocked,
        violations=violations,
        observed_iam_policy=observed_iam_policy(guard + bridge),
        error_class=error_class,
        error_message=message,
        traceback=trace,
        stdout_truncated="stdout" in captured.capped,
        stderr_truncated="stderr" in captured.capped,
        backend=backend,
        isolation=isolation,
    )


def _signal_of(code: int | None) -> str | None:
    """The signal that ended the child: negative for a direct child, 128+N as bubblewrap reports it."""
    if code is None:
        return None
    number = -code if code < 0 else code - 128 if 128 < code < 160 else None
    if number is None:
        return None
    with contextlib.suppress(ValueError):
        sig = signal.Signals(number)
        return _KILL_SIGNALS.get(sig, f"killed by {sig.name}")
    return f"killed by signal {number}"
