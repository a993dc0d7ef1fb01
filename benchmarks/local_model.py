"""Local model throughput: SmolLM2-135M (llama.cpp, CPU) tokens per second by thread count, on an idle
machine and with one core kept busy by another process (as when a test suite or an emulator runs beside it).

llama.cpp's generation threads synchronise on every token; when one of them is descheduled the others wait, so
on a small machine the thread count that is fastest when idle can be much slower under load. This measures it.

    .venv/bin/python benchmarks/local_model.py [--runs 5] [--tokens 128]
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager

PROMPT = "Write a Python script that lists every AWS Lambda function with boto3 and prints them as JSON."


def _spin(stop: multiprocessing.synchronize.Event) -> None:
    while not stop.is_set():
        pass


@contextmanager
def busy_core(enabled: bool) -> Iterator[None]:
    """Keep one core busy with a spinning process while the block runs."""
    if not enabled:
        yield
        return
    stop = multiprocessing.Event()
    proc = multiprocessing.Process(target=_spin, args=(stop,), daemon=True)
    proc.start()
    try:
        yield
    finally:
        stop.set()
        proc.join(timeout=5)


def tokens_per_second(n_threads: int, tokens: int) -> float:
    """Generate `tokens` tokens (greedy, no early stop) and return the rate."""
    from cloudinspect.models import get_model

    model = get_model("smollm2-135m", max_tokens=tokens, n_threads=n_threads, temperature=0)
    model.invoke("hi")  # load outside the timing
    start = time.perf_counter()
    reply = model.invoke(PROMPT)
    elapsed = time.perf_counter() - start
    usage = reply.usage_metadata
    return (usage["output_tokens"] if usage else 0) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=128)
    args = parser.parse_args()
    results: dict[tuple[int, bool], float] = {}
    for busy in (False, True):
        for n_threads in (1, 2):
            with busy_core(busy):
                rates = [tokens_per_second(n_threads, args.tokens) for _ in range(args.runs)]
            results[n_threads, busy] = statistics.median(rates)
    base = results[2, False]
    print(f"| threads | load | tok/s (median of {args.runs}) | vs 2 threads idle |")
    print("|---:|---|---:|---:|")
    for (n_threads, busy), rate in results.items():
        print(f"| {n_threads} | {'one core busy' if busy else 'idle'} | {rate:.1f} | {rate / base:.2f}x |")


if __name__ == "__main__":
    main()
