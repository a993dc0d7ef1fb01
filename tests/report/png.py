"""A tiny PNG reader (zlib + struct) for screenshot tests: 8-bit RGB/RGBA, non-interlaced, which is what Chromium
writes. Pure Python; the common 'Up' filter is undone with whole-row integer arithmetic so that a 1400x2400
screenshot decodes in about a second."""

from __future__ import annotations

import struct
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Image:
    width: int
    height: int
    channels: int
    rows: list[bytes]

    def colour_counts(self, colours: list[str]) -> dict[str, int]:
        """How many pixels have exactly each of `colours` ('#rrggbb')."""
        wanted = {bytes.fromhex(c[1:]): c for c in colours}
        counts = dict.fromkeys(colours, 0)
        step = self.channels
        for row in self.rows:
            for needle, name in wanted.items():
                start = row.find(needle)
                while start != -1:
                    if start % step == 0:
                        counts[name] += 1
                    start = row.find(needle, start + 1)
        return counts

    def distinct_colours(self, stride: int = 3) -> int:
        """Distinct colours among every `stride`-th pixel of every `stride`-th row (a sample is enough to tell a
        page from a blank one)."""
        step = self.channels
        seen: Counter[bytes] = Counter()
        for row in self.rows[::stride]:
            seen.update(row[i : i + 3] for i in range(0, len(row), step * stride))
        return len(seen)


def _add_bytes(a: int, b: int, n: int) -> int:
    """Bytewise (a + b) mod 256 of two n-byte big integers, without carries between bytes."""
    high = int.from_bytes(b"\x80" * n, "big")
    low = high ^ int.from_bytes(b"\xff" * n, "big")
    return ((a & low) + (b & low)) ^ ((a ^ b) & high)


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def read_png(path: Path) -> Image:
    data = path.read_bytes()
    if not data.startswith(_SIGNATURE):
        raise ValueError(f"{path} is not a PNG")
    pos, idat, header = 8, bytearray(), b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    width, height, depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", header)
    if depth != 8 or colour_type not in (2, 6) or interlace:
        raise ValueError(f"unsupported PNG: depth {depth}, colour type {colour_type}, interlace {interlace}")
    bpp = 3 if colour_type == 2 else 4
    stride = width * bpp
    raw = zlib.decompress(bytes(idat))
    rows: list[bytes] = []
    prior = bytes(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)]
        if kind == 0:
            row = line
        elif kind == 2:
            total = _add_bytes(int.from_bytes(line, "big"), int.from_bytes(prior, "big"), stride)
            row = total.to_bytes(stride, "big")
        else:
            out = bytearray(line)
            for i in range(stride):
                a = out[i - bpp] if i >= bpp else 0
                b = prior[i]
                c = prior[i - bpp] if i >= bpp else 0
                if kind == 1:
                    predictor = a
                elif kind == 3:
                    predictor = (a + b) // 2
                elif kind == 4:
                    predictor = _paeth(a, b, c)
                else:
                    raise ValueError(f"unknown PNG filter {kind} in row {y}")
                out[i] = (out[i] + predictor) & 0xFF
            row = bytes(out)
        rows.append(row)
        prior = row
    return Image(width, height, bpp, rows)
