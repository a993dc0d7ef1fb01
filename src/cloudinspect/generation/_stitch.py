"""Stitching a reply cut off by the token limit to the model's continuation of it.

Stitching works on the reply text, so that the extraction rules apply to the whole stitched reply afterwards.
When the reply ends inside an open code block, the continuation is code:

1. A fence that opens the continuation is dropped, with up to three short prose lines before it ("Continuing
   the script:"); a bare ``` counts as an opening fence only on the first non-blank line and when another
   fence follows (otherwise it closes the block). When the reply has no fences at all (raw code), every fence
   line of the continuation is dropped.
2. A restart is recognised: when the continuation begins with the open block's first line again (and that
   line is not blank), it replaces the block's content instead of extending it.
3. Otherwise the overlap is removed: the longest run of the reply's last lines that the continuation repeats
   at its start (the last, cut-off line only needs to be a prefix of its repetition, indentation aside; a
   single repeated line must be at least 6 characters long, a repeated partial line 3), else the longest
   repeated text across the cut of at least 8 characters ("client.descr" + "client.describe_instances()").
   Without an overlap the continuation is appended as is: models usually resume mid-line.
"""

from __future__ import annotations

from cloudinspect.generation._extract import (
    PYTHON_TAGS,
    Block,
    _lang,
    fence_of,
    is_prose,
    parse_blocks,
    strip_reasoning,
)

_MIN_LINE = 6
_MIN_PARTIAL = 3
_MIN_CHARS = 8
_MAX_PREAMBLE = 3


def open_block(text: str) -> Block | None:
    """The code block a reply ends inside, if it ends inside one."""
    blocks, _ = parse_blocks(strip_reasoning(text))
    return blocks[-1] if blocks and not blocks[-1].closed else None


def _drop_opening_fence(continuation: str) -> str:
    lines = continuation.split("\n")
    non_blank = [i for i, line in enumerate(lines) if line.strip()]
    for rank, index in enumerate(non_blank[: _MAX_PREAMBLE + 1]):
        match = fence_of(lines[index])
        if match is None:
            continue
        tagged = _lang(match["info"]) in PYTHON_TAGS
        bare_opener = not match["info"] and rank == 0 and any(fence_of(line) for line in lines[index + 1 :])
        preamble = [line.strip() for line in lines[:index] if line.strip()]
        if (tagged or bare_opener) and all(is_prose(line) for line in preamble):
            return "\n".join(lines[index + 1 :])
        return continuation
    return continuation


def _line_overlap(previous: str, continuation: str) -> int | None:
    """How many whole lines before the cut-off last line of `previous` the continuation repeats at its
    start, its next line repeating the cut-off line; None when it repeats nothing."""
    *complete, partial = previous.split("\n")
    cont_lines = continuation.split("\n")
    for count in range(min(len(complete), len(cont_lines) - 1), -1, -1):
        tail, head, last = complete[len(complete) - count :], cont_lines[:count], cont_lines[count]
        if [line.rstrip() for line in tail] != [line.rstrip() for line in head]:
            continue
        if partial.strip():
            long_enough = count > 0 or len(partial.strip()) >= _MIN_PARTIAL
            same_indent = last.startswith(partial)
            reindented = len(partial.strip()) >= _MIN_PARTIAL and last.lstrip().startswith(partial.lstrip())
            if long_enough and (same_indent or reindented):
                return count
        elif count > 1 or (count == 1 and len(tail[0].strip()) >= _MIN_LINE):
            return count
    return None


def _char_overlap(previous: str, continuation: str) -> int:
    for size in range(min(len(previous), len(continuation)), _MIN_CHARS - 1, -1):
        if previous.endswith(continuation[:size]):
            return size
    return 0


def _without_overlap(previous: str, continuation: str) -> str:
    *complete, partial = previous.split("\n")
    count = _line_overlap(previous, continuation)
    if count is not None:
        kept = complete[: len(complete) - count]
        cont_lines = continuation.split("\n")
        last = cont_lines[count]
        if partial.strip() and not last.startswith(partial):
            # the repetition lost the line's indentation: keep the original's
            cont_lines[count] = partial[: len(partial) - len(partial.lstrip())] + last.lstrip()
        return "\n".join([*kept, *cont_lines])
    if not partial.strip() and partial and continuation[:1] in (" ", "\t"):
        # cut after the indentation, and the continuation indents again
        return previous[: len(previous) - len(partial)] + continuation
    return previous + continuation[_char_overlap(previous, continuation) :]


def join_continuation(previous: str, continuation: str) -> str:
    """The reply `previous` (cut off by the token limit) followed by its `continuation`, stitched."""
    continuation = strip_reasoning(continuation)
    block = open_block(previous)
    if block is not None:
        continuation = _drop_opening_fence(continuation)
        first = next((line for line in block.lines if line.strip()), None)
        cont_first = next((line for line in continuation.split("\n") if line.strip()), None)
        if first is not None and cont_first is not None and first.rstrip() == cont_first.rstrip():
            kept = previous[: len(previous) - len(block.text)]
            return kept + continuation.lstrip("\n")
    elif not parse_blocks(previous)[0]:
        continuation = "\n".join(line for line in continuation.split("\n") if not fence_of(line))
    return _without_overlap(previous, continuation)
