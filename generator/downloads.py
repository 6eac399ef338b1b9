"""Open-data downloads of each public register as CSV and JSON, streamed (PUB-1: only the public
projection's fields; PUB-8: stable order and formatting)."""

from __future__ import annotations

import csv
import dataclasses
import json
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def write_register(root: Path, name: str, items: Iterable[Any], kind: type) -> int:
    """Write ``downloads/<name>.csv`` and ``downloads/<name>.json`` with every field of the
    public projection ``kind`` (and nothing else); return the row count."""
    fields = [f.name for f in dataclasses.fields(kind)]
    folder = root / "downloads"
    folder.mkdir(parents=True, exist_ok=True)
    count = 0
    csv_path, json_path = folder / f"{name}.csv", folder / f"{name}.json"
    with (
        csv_path.open("w", encoding="utf-8", newline="") as csv_fh,
        json_path.open("w", encoding="utf-8") as json_fh,
    ):
        writer = csv.writer(csv_fh, lineterminator="\n")
        writer.writerow(fields)
        json_fh.write("[")
        for item in items:
            row = dataclasses.asdict(item)
            values = [_plain(row[f]) for f in fields]
            writer.writerow(["" if v is None else v for v in values])
            json_fh.write(("," if count else "") + "\n")
            json_fh.write(
                json.dumps(
                    dict(zip(fields, values, strict=True)), ensure_ascii=False, sort_keys=True
                )
            )
            count += 1
        json_fh.write("\n]\n")
    return count
