"""Runs inside the sandbox, before the script: starts the endpoint forwarder, then runs the script as __main__.

Standard library only, and no cloudinspect import: the sandbox sees the interpreter and site-packages, not our
source tree. It runs as `python -I -B`, so it sets sys.path itself (the script's directory, the guard's).
Configuration comes in the CLOUDINSPECT_SANDBOX environment variable (JSON), removed before the script runs.
In a network namespace with nothing but loopback, the forwarder listens on 127.0.0.1 and relays each TCP
connection to the bridge's Unix socket in the work directory: the child's only way out, and the bridge is where
calls are parsed, refused and recorded. A script that kills the forwarder only cuts itself off.
"""

import gc
import json
import os
import runpy
import select
import socket
import sys
import threading


def _relay(listener: socket.socket, socket_path: str) -> None:
    peers: dict[socket.socket, socket.socket] = {}
    while True:
        readable, _, _ = select.select([listener, *peers], [], [])
        for sock in readable:
            if sock is listener:
                conn, _ = listener.accept()
                # The bridge answers in several writes (status and headers, then the body): with Nagle on, the
                # second waits for the client's delayed ACK, ~30 ms a call (BENCHMARKS.md, "the bridge's hop").
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    upstream.connect(socket_path)
                except OSError:
                    conn.close()
                    upstream.close()
                    continue
                peers[conn] = upstream
                peers[upstream] = conn
                continue
            other = peers.get(sock)
            if other is None:
                continue
            try:
                data = sock.recv(65536)
                if data:
                    other.sendall(data)
                    continue
            except OSError:
                pass
            for s in (sock, other):
                peers.pop(s, None)
                s.close()


READY = b"cloudinspect-warm-ready\n"


def _warm_up(config: dict[str, object]) -> None:
    """Warm mode (the pool, pool.py): import what scripts need, say READY on stdout, then wait for this run's
    environment on stdin (one JSON line) and replace the whole environment with it. The process is used once."""
    import boto3  # noqa: F401  # the point: paid before the run, not during it
    import botocore.loaders
    import botocore.session

    # One data loader for every session of this process (botocore builds one per session, and parsing a service
    # model is most of a new client's cost): the models of `preload` are parsed now, from site-packages, before
    # anything of the run exists. A script that sets its own data_path gets a loader of its own.
    shared = botocore.loaders.create_loader()
    original = botocore.session.create_loader

    def create_loader(search_path_string: str | None = None) -> object:
        return shared if search_path_string is None else original(search_path_string)

    botocore.session.create_loader = create_loader  # type: ignore[assignment]
    preload = config.get("preload")
    if isinstance(preload, list) and preload:
        session = botocore.session.Session()
        for name in preload:
            try:
                session.create_client(
                    str(name),
                    region_name="us-east-1",
                    aws_access_key_id="warm",
                    aws_secret_access_key="warm",  # noqa: S106
                )
            except Exception:  # noqa: S112 - an unknown or odd service only stays cold
                continue
        del session
    # What the warm-up built lives until exit: keep the collector off it (it would otherwise be traversed again
    # at every collection and at exit, which costs a loaded interpreter hundreds of milliseconds).
    gc.freeze()

    guard = config.get("guard")
    if isinstance(guard, str):
        sys.path.insert(0, guard)
        __import__("cloudinspect_guard")  # on sys.path only here; run() installs it later

        sys.path.remove(guard)
    os.write(1, READY)
    line = sys.stdin.buffer.readline()
    if not line:  # the pool closed without a run for this process
        raise SystemExit(0)
    request = json.loads(line)
    os.environ.clear()
    os.environ.update({str(k): str(v) for k, v in request.get("env", {}).items()})
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)


def main() -> None:
    config = json.loads(os.environ.pop("CLOUDINSPECT_SANDBOX"))
    if config.get("warm"):
        _warm_up(config)
    forward = config.get("forward")
    if forward:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", int(forward["port"])))
        listener.listen(16)
        threading.Thread(target=_relay, args=(listener, forward["socket"]), daemon=True).start()
    script = config["script"]
    sys.path.insert(0, os.path.dirname(script))
    guard = config.get("guard")
    if guard:
        # The runtime guard (guard.py) hooks every botocore session, then runs the script itself.
        sys.path.insert(0, guard)
        sys.argv = [sys.argv[0], guard, script]
        import cloudinspect_guard  # type: ignore[import-not-found]  # on sys.path only here

        cloudinspect_guard.run()
        return
    sys.argv = [script]
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
