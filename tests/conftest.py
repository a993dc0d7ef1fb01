"""Fixtures for the emulated account: one seeded moto server per scenario, shared by the whole session."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest

from cloudinspect.cloud import Emulator, start_emulator
from tests._llama_server import ServedModel, serve_for_tests


@pytest.fixture(scope="session")
def emulator() -> Iterator[Callable[[str], Emulator]]:
    """`emulator("baseline")`: that scenario's seeded emulator, started on first use, stopped at session end."""
    started: dict[str, Emulator] = {}
    with ExitStack() as stack:

        def get(scenario: str) -> Emulator:
            if scenario not in started:
                started[scenario] = stack.enter_context(start_emulator(scenario))
            return started[scenario]

        yield get


@pytest.fixture(scope="session")
def openai_server() -> Iterator[ServedModel]:
    """SmolLM2 served over the OpenAI API on loopback (llama-cpp-python's server) for the whole session, started
    on first use."""
    with serve_for_tests() as served:
        yield served
