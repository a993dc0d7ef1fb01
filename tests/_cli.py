"""Running the real command line in process, for CLI tests."""

from __future__ import annotations

import pytest

from cloudinspect.cli import main


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """`cloudinspect ARGV...` in this process: (exit code, stdout, stderr)."""
    code = 0
    try:
        main(argv)
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err
