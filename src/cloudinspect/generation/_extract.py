"""Finding the script in a model's free-text reply.

Replies come with prose around the code, several code blocks (the script, an example of its output, a shell
command to run it), the script split into parts, no fences at all, or a last fence left open because the reply
was cut off. The rule, applied in order:

1. Reasoning (`<think>...</think>`) is dropped. Fenced blocks are parsed (``` or ~~~, three or more, up to
   three spaces of indentation; a closing fence glued to the end of a code line is accepted; an opening fence
   with a Python tag inside an open block starts a new block).
2. Candidates are the blocks tagged python, py, python3 or py3, and untagged blocks that look like Python
   (they contain an import, a def, boto3, print( or an assignment, and are not a JSON document). Blocks tagged
   with another language (json, bash, text...), JSON documents, and a block left open before another one
   (abandoned) are never candidates.
3. One candidate: it. Several: if together they form one script split into parts (their concatenation parses,
   uses boto3 and prints, no function or class is defined twice, and at most one part is a full script on its
   own), their concatenation in order. Otherwise the last "full script" block (uses boto3 and prints) among
   those at least half as long as the longest full script (a revised version usually comes last; a short
   usage snippet after the script does not win). Otherwise the longest candidate (the last on ties).
4. No candidate: the lines outside fenced blocks are raw code. Leading prose lines are skipped up to the
   first line that starts like Python (import, from, def, class, a decorator, a comment, an assignment or a
   call); trailing prose lines are dropped while the code does not parse. Stray fence lines are removed.

The extraction never fails: code that does not parse is returned with a warning, for review and repair.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from typing import Literal

ExtractionMethod = Literal["structured", "fenced", "raw"]

PYTHON_TAGS = frozenset({"python", "py", "python3", "py3"})

_FENCE = re.compile(r"^(?P<indent>[ \t]{0,3})(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`]*?)[ \t]*$")
_THINK = re.compile(r"<think>.*?(?:</think>|\Z)", re.DOTALL)
_CODE_SIGNAL = re.compile(
    r"^\s*(?:import\s|from\s+\S+\s+import\s|def\s|class\s)|boto3|print\(|^\s*[A-Za-z_]\w*\s*=", re.MULTILINE
)
_CODE_START = re.compile(
    r"^(?:import\s|from\s+[\w.]+\s+import\s|def\s|async\s+def\s|class\s|@\w|#|if\s+__name__|try:|for\s|with\s"
    r"|[A-Za-z_][\w.]*\s*(?:=|\(|\[)|\"\"\"|''')"
)
_PROSE = re.compile(r"^[A-Z][A-Za-z'’]*[,:;!.?]?(?:\s+[^\s=]+)*$")
_DEFINED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


@dataclass
class Block:
    """One fenced block of a reply."""

    lang: str
    lines: list[str] = field(default_factory=list)
    closed: bool = False

    @property
    def text(self) -> str:
        """The block's content as written."""
        return "\n".join(self.lines)


@dataclass
class Extraction:
    """The code found in a reply, how it was found, and what looked wrong."""

    code: str
    method: ExtractionMethod
    explanation: str = ""
    complete: bool = True
    blocks: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def parses(self) -> bool:
        """Whether the code is syntactically valid Python."""
        return syntax_error(self.code) is None


def syntax_error(code: str) -> str | None:
    """The first syntax error of `code` ('line N: message'), or None when it parses."""
    try:
        ast.parse(code)
    except SyntaxError as exc:
        return f"line {exc.lineno}: {exc.msg}"
    except ValueError as exc:  # null bytes
        return str(exc)
    return None


def strip_reasoning(text: str) -> str:
    """The reply without `<think>...</think>` reasoning (an unclosed one runs to the end)."""
    return _THINK.sub("", text) if "<think>" in text else text


def _lang(info: str) -> str:
    word = info.strip().split()[0] if info.strip() else ""
    return word.strip("{}.").lower()


def fence_of(line: str) -> re.Match[str] | None:
    """The fence on a line (opening or closing), if it is one."""
    return _FENCE.match(line)


def parse_blocks(text: str) -> tuple[list[Block], list[str]]:
    """The fenced blocks of a reply, and the prose lines outside them."""
    blocks: list[Block] = []
    prose: list[str] = []
    current: Block | None = None
    marker = ""
    for line in text.split("\n"):
        match = _FENCE.match(line)
        if current is None:
            if match:
                current, marker = Block(_lang(match["info"])), match["fence"]
                blocks.append(current)
            else:
                prose.append(line)
            continue
        if match and match["fence"][0] == marker[0] and len(match["fence"]) >= len(marker) and not match["info"]:
            current.closed, current = True, None
        elif match and match["fence"][0] == marker[0] and _lang(match["info"]) in PYTHON_TAGS:
            # An opening fence inside an open block: the model forgot to close the previous one.
            current = Block(_lang(match["info"]))
            blocks.append(current)
        elif marker[0] == "`" and line.rstrip().endswith(marker) and not line.rstrip().endswith(marker + "`"):
            current.lines.append(line.rstrip()[: -len(marker)])
            current.closed, current = True, None
        else:
            current.lines.append(line)
    return blocks, prose


def _is_json(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict | list)
    except ValueError:
        return False


def _is_candidate(block: Block) -> bool:
    text = block.text.strip()
    if not text or _is_json(text):
        return False
    if block.lang in PYTHON_TAGS:
        return True
    return block.lang == "" and bool(_CODE_SIGNAL.search(text))


def _is_full(code: str) -> bool:
    return "boto3" in code and "print" in code


def _defined_names(code: str) -> list[str] | None:
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return None
    return [node.name for node in tree.body if isinstance(node, _DEFINED)]


def _split_parts(candidates: list[Block]) -> str | None:
    """The concatenation of the candidates when they look like one script written in parts."""
    if len(candidates) < 2 or sum(_is_full(b.text) for b in candidates) > 1:
        return None
    joined = "\n\n".join(b.text.strip("\n") for b in candidates)
    if not _is_full(joined) or syntax_error(joined) is not None:
        return None
    names: list[str] = []
    for block in candidates:
        defined = _defined_names(block.text)
        if defined is None:
            return None
        names += defined
    return joined if len(names) == len(set(names)) else None


def _choose(candidates: list[Block]) -> tuple[str, list[Block], list[str]]:
    """(code, the blocks it comes from, warnings)."""
    if len(candidates) == 1:
        return candidates[0].text, candidates, []
    joined = _split_parts(candidates)
    if joined is not None:
        return joined, candidates, [f"the script was split over {len(candidates)} code blocks: joined them"]
    full = [b for b in candidates if _is_full(b.text)]
    pool = full or candidates
    longest = max(len(b.text) for b in pool)
    if full:
        chosen = [b for b in full if len(b.text) * 2 >= longest][-1]
    else:
        chosen = [b for b in pool if len(b.text) == longest][-1]
    note = f"the reply has {len(candidates)} Python code blocks: took block {candidates.index(chosen) + 1}"
    return chosen.text, [chosen], [note]


def _raw_code(lines: list[str]) -> tuple[str, str]:
    """(code, prose) of a reply's lines outside fenced blocks."""
    lines = [line for line in lines if not _FENCE.match(line)]
    code = "\n".join(lines)
    if syntax_error(code) is None:
        return code, ""
    start = next((i for i, line in enumerate(lines) if _CODE_START.match(line)), 0)
    head, body = lines[:start], lines[start:]
    tail: list[str] = []
    while body and syntax_error("\n".join(body)) is not None:
        last = body[-1].strip()
        if last and not is_prose(last):
            break
        tail.insert(0, body.pop())
    return "\n".join(body), "\n".join([*head, *tail])


def is_prose(line: str) -> bool:
    """Whether a (stripped) line reads like a sentence rather than code."""
    return bool(_PROSE.match(line)) and not _CODE_START.match(line)


def _clean(code: str) -> str:
    code = code.strip("\n")
    lines = [line.rstrip() for line in code.split("\n")]
    return "\n".join(lines).strip("\n") + "\n" if code.strip() else ""


def _explanation(prose: list[str] | str) -> str:
    text = prose if isinstance(prose, str) else "\n".join(prose)
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    return text[:4000]


def extract_code(reply: str) -> Extraction:
    """The script in a free-text reply (see the module docstring for the rule)."""
    text = strip_reasoning(reply)
    blocks, prose = parse_blocks(text)
    # A block left open and followed by another one was abandoned by the model.
    candidates = [b for i, b in enumerate(blocks) if _is_candidate(b) and (b.closed or i == len(blocks) - 1)]
    warnings: list[str] = []
    if candidates:
        code, used, warnings = _choose(candidates)
        complete = all(b.closed for b in used)
        method: ExtractionMethod = "fenced"
        explanation = _explanation(prose)
        if not complete:
            warnings.append("the reply ends inside an unclosed code block (cut off?)")
    else:
        code, rest = _raw_code(prose)
        method, complete, explanation = "raw", True, _explanation(rest)
        if not code.strip():
            warnings.append("the reply contains no code")
        elif any(b.text.strip() for b in blocks):
            warnings.append("no code block looks like Python: took the reply's code-like lines")
    code = _clean(code)
    error = syntax_error(code) if code else None
    if error is not None:
        warnings.append(f"the extracted code does not parse ({error})")
    return Extraction(code, method, explanation, complete, len(blocks), warnings)


_SERVICE_CALL = re.compile(r"""\.(?:client|resource)\(\s*(?:service_name\s*=\s*)?["']([a-z0-9][a-z0-9-]*)["']""")


def services_in(code: str) -> list[str]:
    """The boto3 service names a script creates clients or resources for, in first-use order."""
    return list(dict.fromkeys(_SERVICE_CALL.findall(code)))
