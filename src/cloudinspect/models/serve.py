"""A local model behind an OpenAI-compatible HTTP server on loopback (llama-cpp-python's server).

`serve_local_model("smollm2-135m")` runs `python -m llama_cpp.server` in its own process group with the GGUF
the registry entry names, waits until `GET /v1/models` answers, and stops the whole group when the `with`
block ends. The served model is then reachable through the `openai_compatible` provider exactly as a vLLM or
LM Studio server would be, which is how the OpenAI code path is exercised without an API key or a network:

```python
with serve_local_model("smollm2-135m", api_key="sk-local-EXAMPLE") as server:
    spec = server.model_spec(api_key_env="LOCAL_KEY", max_tokens=64)   # LOCAL_KEY holds sk-local-EXAMPLE
    get_model(spec).invoke("hello")
```

llama-cpp-python's server reads its settings from the environment too (MODEL, PORT, HOST, API_KEY, ... in any
case), so the child gets our environment without those names: a variable meant for another tool must not
change which model is served or where. The API key travels in the child's environment (API_KEY), never on
its command line, where any local user could read it.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cloudinspect.cloud.emulator import stop_process_group
from cloudinspect.config import get_settings
from cloudinspect.errors import CloudInspectError, InputError, MissingDependencyError
from cloudinspect.models.llamacpp import default_threads, resolve_gguf
from cloudinspect.models.registry import get_spec, spec_with
from cloudinspect.models.spec import ModelSpec, Provider

SERVER_MODULE = "llama_cpp.server"
DEFAULT_N_CTX = 2048
_PORT_ATTEMPTS = 3
_INSTALL_HINT = "pip install 'cloudinspect[local]'"
# Request parameters of the served model that the OpenAI API takes too (top_k is not one of them).
_CARRIED_PARAMETERS = {"temperature", "top_p", "max_tokens", "seed", "stop"}


class LocalServerError(CloudInspectError):
    """The local model server could not start or did not answer."""


@dataclass(frozen=True)
class LocalServer:
    """A running server: where it answers, the model name it serves, its pid (also its process group), and its
    output log (deleted when the server stops)."""

    base_url: str
    model_name: str
    pid: int
    model_id: str
    family: str
    n_ctx: int
    log_path: Path
    defaults: dict[str, Any] = field(default_factory=dict)

    def model_spec(
        self, model_id: str | None = None, *, api_key_env: str | None = None, **parameters: Any
    ) -> ModelSpec:
        """An `openai_compatible` spec for this server (id `<model>-server` unless given): the served model's
        sampling parameters (temperature, max_tokens, seed...) replaced by `parameters`, validated like a
        registry entry's.

        `api_key_env` names the variable holding the key the server was started with; without it the
        provider sends a placeholder, which a server started without a key accepts."""
        spec = ModelSpec.model_validate(
            {
                "id": model_id or f"{self.model_id}-server",
                "provider": Provider.openai_compatible.value,
                "model": self.model_name,
                "family": self.family,
                "description": f"{self.model_id} served by llama-cpp-python at {self.base_url}",
                "parameters": {**self.defaults, "base_url": self.base_url},
                "context_window": self.n_ctx,
                "api_key_env": api_key_env,
            }
        )
        return spec_with(spec, **parameters) if parameters else spec


@contextlib.contextmanager
def serve_local_model(
    model: str | ModelSpec = "smollm2-135m",
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    n_ctx: int | None = None,
    n_threads: int | None = None,
    n_threads_batch: int | None = None,
    api_key: str | None = None,
    timeout: float = 60.0,
) -> Iterator[LocalServer]:
    """Serve a llama.cpp model of the registry (an id or a spec) over the OpenAI API until the block ends.

    `port=0` picks a free port. `n_ctx` defaults to the spec's (else 2048), `n_threads` (generation) to the
    spec's (else `default_threads()`) and `n_threads_batch` (prompt processing) to every core, as in-process;
    on a machine busy with other work fewer batch threads are faster, see `default_threads`. With `api_key`
    the server rejects requests that do not carry it.

    Raises InputError for a model that is not a llama.cpp one, MissingDependencyError when llama-cpp-python's
    server or the weights are missing, and LocalServerError, with the tail of the server's output, when it
    exits or does not answer within `timeout` seconds. The process group is stopped on exit (SIGTERM, then
    SIGKILL), whatever happens in the block.
    """
    spec = get_spec(model) if isinstance(model, str) else model
    if spec.provider is not Provider.llamacpp or spec.gguf is None:
        raise InputError(
            f"model '{spec.id}' is served by provider {spec.provider.value}: only llamacpp models can be served locally"
        )
    gguf = resolve_gguf(spec.gguf, get_settings().cache_dir)
    ctx = n_ctx or spec.n_ctx or DEFAULT_N_CTX
    threads = n_threads or spec.n_threads or default_threads()
    env = _server_env(api_key)
    fd, name = tempfile.mkstemp(prefix="cloudinspect-llama-server-", suffix=".log")
    os.close(fd)
    log_path = Path(name)
    args = ["--model", str(gguf), "--n_ctx", str(ctx), "--n_threads", str(threads)]
    batch = n_threads_batch or max(threads, os.cpu_count() or 1)
    args += ["--n_threads_batch", str(batch), "--verbose", "False"]
    try:
        popen, base_url = _start(args, spec.model, host, port, env, api_key, log_path, timeout)
        try:
            defaults = spec.parameters.model_dump(include=_CARRIED_PARAMETERS, exclude_none=True)
            yield LocalServer(base_url, spec.model, popen.pid, spec.id, spec.family, ctx, log_path, defaults)
        finally:
            stop_process_group(popen.pid, timeout=10, popen=popen)
    finally:
        log_path.unlink(missing_ok=True)


def _start(
    args: list[str],
    alias: str,
    host: str,
    port: int,
    env: dict[str, str],
    api_key: str | None,
    log_path: Path,
    timeout: float,
) -> tuple[subprocess.Popen[bytes], str]:
    """Start the server and wait until it answers; with `port=0`, a port taken between our probe and the
    server's bind is retried with another."""
    for attempt in range(1, _PORT_ATTEMPTS + 1):
        chosen = port or _free_port(host)
        cmd = [
            sys.executable,
            "-m",
            SERVER_MODULE,
            *args,
            "--model_alias",
            alias,
            "--host",
            host,
            "--port",
            str(chosen),
        ]
        with log_path.open("wb") as log:  # each attempt's own output: an earlier bind failure must not linger
            popen = subprocess.Popen(  # noqa: S603 - our own interpreter and an installed module
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
                close_fds=True,
            )
        base_url = f"http://{_url_host(host)}:{chosen}/v1"
        try:
            _wait_ready(popen, base_url, alias, api_key, log_path, timeout)
        except _PortTaken:
            stop_process_group(popen.pid, timeout=5, popen=popen)
            if port or attempt == _PORT_ATTEMPTS:
                raise LocalServerError(
                    f"the model server could not bind {host}:{chosen}: address already in use\n{_tail(log_path)}"
                ) from None
            continue
        except BaseException:
            stop_process_group(popen.pid, timeout=5, popen=popen)
            raise
        return popen, base_url
    raise LocalServerError("the model server did not start")  # unreachable: the last attempt raises


class _PortTaken(Exception):
    """The chosen port was taken between our probe and the server's bind (or was never free)."""


def _server_settings() -> set[str]:
    """The lower-cased names llama-cpp-python's server reads from the environment."""
    try:
        from llama_cpp.server.settings import ConfigFileSettings, Settings
    except ImportError as exc:
        raise MissingDependencyError(f"serving a local model needs llama-cpp-python[server]: {_INSTALL_HINT}") from exc
    return {name.lower() for name in (*Settings.model_fields, *ConfigFileSettings.model_fields, "config_file")}


def _server_env(api_key: str | None) -> dict[str, str]:
    blocked = _server_settings()
    env = {k: v for k, v in os.environ.items() if k.lower() not in blocked}
    if api_key is not None:
        env["API_KEY"] = api_key
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _free_port(host: str) -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _wait_ready(
    popen: subprocess.Popen[bytes], base_url: str, alias: str, api_key: str | None, log_path: Path, timeout: float
) -> None:
    """Poll GET /v1/models until it lists our model: llama-cpp-python loads the model before it listens, and
    until then whatever else answers on the port (a process that took it first) is not our server."""
    request = urllib.request.Request(base_url + "/models")  # noqa: S310 - an http URL we built
    if api_key is not None:
        request.add_header("Authorization", f"Bearer {api_key}")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if popen.poll() is not None:
            tail = _tail(log_path)
            if "address already in use" in tail.lower() or f"errno {errno.EADDRINUSE}" in tail.lower():
                raise _PortTaken
            raise LocalServerError(f"the model server exited with code {popen.returncode} before it answered:\n{tail}")
        if _lists(request, alias):
            return
        time.sleep(0.05)
    raise LocalServerError(f"the model server did not answer within {timeout:.0f} s:\n{_tail(log_path)}")


def _lists(request: urllib.request.Request, alias: str) -> bool:
    try:
        with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310 - loopback http URL
            listed = json.loads(response.read())
    except (OSError, ValueError):  # not listening yet, an HTTP error (HTTPError is an OSError), not JSON
        return False
    models = listed.get("data") if isinstance(listed, dict) else None
    return isinstance(models, list) and any(isinstance(m, dict) and m.get("id") == alias for m in models)
