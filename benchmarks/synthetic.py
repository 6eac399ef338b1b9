"""Synthetic content for the benchmarks: invented names, checksum-valid invented numbers, written
as the data contract's CSV files, streamed."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from tests.builders import uscc_code


def write_table(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    """Stream ``rows`` (mappings with the same keys) into a CSV file with a header row."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer: csv.DictWriter[str] | None = None
        for row in rows:
            if writer is None:
                writer = csv.DictWriter(fh, fieldnames=list(row))
                writer.writeheader()
            writer.writerow({k: "" if v is None else v for k, v in row.items()})


def organisations(regions: list[str], n: int, identified: bool) -> Iterator[dict[str, Any]]:
    """``n`` organisations spread over ``regions``, identified by name keyword if asked."""
    for i in range(n):
        region = regions[i % len(regions)]
        yield {
            "uscc": uscc_code(region, i + 1),
            "name": f"示例{region}第{i}志愿者协会",
            "kind": "social_group",
            "legal_representative": "示例",
            "registration_authority": f"{region}民政局",
            "region": region,
            "registered_on": "2020-01-01",
            "charter_volunteer_purpose": "true",
            "identified_on": f"202{i % 5}-0{1 + i % 9}-15" if identified else None,
            "identification_basis": "name_keyword" if identified else None,
        }
