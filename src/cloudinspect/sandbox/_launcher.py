"""Runs inside the sandbox, before the script: starts the endpoint forwarder, then runs the script as __main__.

Standard library only, and no cloudinspect import: the sandbox sees the interpreter and site-packages, not our
source tree. It runs as `python -I -B`, so it sets sys.path itself (the script's directory, the guard's).
Configuration comes in the CLOUDINSPECT_SANDBOX environment variable (JSON), removed before the script runs.
In a network namespace with nothing but loopback, the forwarder listens on 127.0.0.1 and relays each TCP
connection to the bridge's Unix socket in the work directory: the child's only way out, and the bridge is where
calls are parsed, refused and recorded. A script that kills the forwarder only cuts itself off.
"""

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


def main() -> None:
    config = json.loads(os.environ.pop("CLOUDINSPECT_SANDBOX"))
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
