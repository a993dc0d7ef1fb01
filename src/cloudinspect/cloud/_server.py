"""The emulator's server process: moto's WSGI app on a werkzeug server, with a port chosen by the OS.

Run as `python -m cloudinspect.cloud._server --port 0 --ready-file PATH`: binds first, then writes
{"port", "pid"} to the ready file, so the parent learns the real port without racing for a free one.
Request logging is off (seeding makes thousands of requests); errors still reach stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
from pathlib import Path

SERVER_ENV = {
    # moto's ~1,300 default AMIs (and their snapshots) would swamp describe_images/describe_snapshots and
    # cost ~1 s on the first such call; scenarios reference AMI ids that need not exist.
    "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
    # AWS managed policies (AdministratorAccess, ReadOnlyAccess...) exist in every real account; scenarios
    # attach them by ARN. Costs ~0.4 s on the first IAM call.
    "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",
}
"""moto settings of the server process (the parent passes them; every other MOTO_* variable is dropped, so
moto's own defaults apply: no AMI, instance type or key pair validation, compact responses). BENCHMARKS.md
measures what each setting buys or costs."""


def main(argv: list[str] | None = None) -> None:
    """Serve moto until SIGTERM/SIGINT."""
    parser = argparse.ArgumentParser(prog="cloudinspect.cloud._server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--ready-file", type=Path, required=True)
    parser.add_argument("--no-patches", action="store_true", help="Serve moto as it is (for benchmarks).")
    parser.add_argument(
        "--parent-pid", type=int, default=None, help="Exit when this process is gone (an owner killed with -9)."
    )
    args = parser.parse_args(argv)

    for key, value in SERVER_ENV.items():
        os.environ.setdefault(key, value)

    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    from cloudinspect.cloud import _patches

    if not args.no_patches:
        _patches.apply()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app = DomainDispatcherApplication(create_backend_app)
    server = make_server(args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler)
    port = server.server_port
    # moto builds some URLs (SQS queue URLs when the Host header is missing) from MOTO_PORT.
    os.environ["MOTO_PORT"] = str(port)

    def stop(signum: int, frame: object) -> None:
        # Nothing to flush (moto keeps its state in memory, the log is unbuffered): skip the interpreter's
        # teardown of a large heap, which takes seconds after a big scenario.
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.parent_pid is not None:
        _watch_parent(args.parent_pid)
    tmp = args.ready_file.with_suffix(".tmp")
    tmp.write_text(json.dumps({"port": port, "pid": os.getpid()}), encoding="utf-8")
    tmp.replace(args.ready_file)
    print(f"cloudinspect emulator (moto) listening on http://{args.host}:{port}", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()


def _watch_parent(pid: int, interval_s: float = 1.0) -> None:
    """Exit when process `pid` no longer exists: an emulator owned by a process (not `emulator up`) must not
    outlive it, even when it is killed with SIGKILL and cannot stop us. (PR_SET_PDEATHSIG would fire when the
    *thread* that started us ends, and owners start emulators from worker threads.)"""
    import threading
    import time

    def watch() -> None:
        while True:
            time.sleep(interval_s)
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                os._exit(0)
            except PermissionError:  # exists, owned by someone else
                continue

    threading.Thread(target=watch, name="cloudinspect-parent-watch", daemon=True).start()


if __name__ == "__main__":
    main()
