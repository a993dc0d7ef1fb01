"""Running a prompt's canonical reference script against an AWS-compatible endpoint.

The script gets the prompt's resolved variables as JSON in CLOUDINSPECT_VARS and reaches the account only
through the standard AWS environment (AWS_ENDPOINT_URL, region, credentials), so the same file runs against
the emulator, any endpoint, or a real account. This is a plain subprocess for trusted, shipped code; untrusted
generated code goes through the sandbox.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cloudinspect.catalog.render import resolve_variables
from cloudinspect.catalog.schema import InspectionPrompt

EMULATOR_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def endpoint_env(endpoint_url: str, region: str = "us-east-1") -> dict[str, str]:
    """The environment that points boto3 at an emulator or endpoint, with dummy credentials."""
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        **EMULATOR_CREDENTIALS,
        # Never read the user's ~/.aws files when talking to an emulator.
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


@dataclass(frozen=True)
class ScriptRun:
    """What a script did: exit code, output, how long it took, and the parsed JSON when there was one."""

    returncode: int
    stdout: str
    stderr: str
    duration_s: float

    @property
    def output(self) -> Any:
        """The JSON document printed on stdout (raises ValueError if there is none)."""
        return json.loads(self.stdout)


def run_reference(
    prompt: InspectionPrompt,
    env: Mapping[str, str],
    variables: Mapping[str, Any] | None = None,
    *,
    timeout_s: float = 120.0,
) -> ScriptRun:
    """Run the prompt's reference script with the given AWS environment and variables."""
    values = resolve_variables(prompt, variables)
    child_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        **env,
        "CLOUDINSPECT_VARS": json.dumps(values),
    }
    start = time.perf_counter()
    proc = subprocess.run(  # noqa: S603 - our own interpreter running a shipped reference script
        [sys.executable, "-I", "-c", prompt.reference_code()],
        env=child_env,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    return ScriptRun(proc.returncode, proc.stdout, proc.stderr, time.perf_counter() - start)
