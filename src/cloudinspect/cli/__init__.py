"""The `cloudinspect` command line.

Each command group is a module in this package that defines `app: typer.Typer` and `NAME: str`;
`build_app()` mounts every such module, so a new group needs no edit here. A module may also define
`COMMANDS`, a list of functions mounted as top-level commands (`cloudinspect generate`). Modules keep
heavy imports inside their commands so that `cloudinspect --help` stays fast.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys

import typer
from rich.console import Console
from rich.text import Text

from cloudinspect.errors import CloudInspectError

err_console = Console(stderr=True, highlight=False)


def build_app() -> typer.Typer:
    """The root typer app with every command group mounted."""
    root = typer.Typer(
        name="cloudinspect",
        help="LLM-written, reviewed and sandboxed cloud inspection code, and a benchmark of the LLMs that write it.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
    )
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        sub = getattr(module, "app", None)
        name = getattr(module, "NAME", None)
        if isinstance(sub, typer.Typer) and isinstance(name, str):
            root.add_typer(sub, name=name)
        for command in getattr(module, "COMMANDS", ()):
            root.command()(command)
    return root


_TRACING_SWITCHES = ("LANGSMITH_TRACING", "LANGSMITH_TRACING_V2", "LANGCHAIN_TRACING_V2", "LANGCHAIN_TRACING")


def _observe() -> bool:
    """Register secret-looking environment values for redaction; with LangSmith's tracing switched on (its
    standard variables), make the redacting client the one every tracer uses. True when tracing is on."""
    from cloudinspect.redact import register_env_secrets

    register_env_secrets()
    if not any(os.environ.get(name, "").strip().lower() == "true" for name in _TRACING_SWITCHES):
        return False  # langsmith is not even imported: `--help` stays fast
    from cloudinspect.observability import install_tracing

    return install_tracing() is not None


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script: runs the app and turns our errors into clean exits."""
    app = build_app()
    tracing = _observe()
    try:
        result = app(args=argv, standalone_mode=False)
        # In non-standalone mode click returns the code of `typer.Exit(n)` instead of exiting.
        if isinstance(result, int) and result:
            sys.exit(result)
    except CloudInspectError as exc:
        # The message may hold brackets (regular expressions, JSON paths): never parse it as markup.
        err_console.print(Text("error: ", style="bold red") + Text(str(exc)), soft_wrap=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err_console.print("aborted")
        sys.exit(1)
    except SystemExit:
        raise
    except Exception as exc:
        # click's usage errors arrive here in standalone_mode=False
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise
    finally:
        if tracing:
            from cloudinspect.observability import flush_traces

            flush_traces(timeout=30)
