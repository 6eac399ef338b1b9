"""Reading content tables: ``<table>.csv`` streamed row by row, or ``<table>.yaml`` (a list of
mappings), each row with the line it starts on so that every problem can name it."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

CSV_FIELD_LIMIT = 1 << 20
csv.field_size_limit(CSV_FIELD_LIMIT)


class SourceError(ValueError):
    """A file that cannot be read as a table at all (bad encoding, not a list of mappings...)."""

    def __init__(self, line: int, message: str) -> None:
        self.line = line
        super().__init__(message)


class SourceRow:
    """One row: the line it starts on, its raw values (strings, or ``None`` for empty), the line
    of each field (YAML), and a problem that makes the whole row unreadable, if any."""

    __slots__ = ("field_lines", "line", "problem", "values")

    def __init__(
        self,
        line: int,
        values: dict[str, Any],
        field_lines: dict[str, int] | None = None,
        problem: str | None = None,
    ) -> None:
        self.line = line
        self.values = values
        self.field_lines = field_lines
        self.problem = problem

    def line_of(self, name: str) -> int:
        return self.field_lines.get(name, self.line) if self.field_lines else self.line


@dataclass(frozen=True)
class TableSource:
    table: str
    path: Path

    @property
    def is_csv(self) -> bool:
        return self.path.suffix == ".csv"

    def size(self) -> int:
        return os.path.getsize(self.path)


def find_sources(data_dir: Path, table: str) -> list[TableSource]:
    """The files holding ``table`` in ``data_dir`` (more than one is an error for the caller)."""
    names = (f"{table}.csv", f"{table}.yaml", f"{table}.yml")
    return [TableSource(table, data_dir / n) for n in names if (data_dir / n).is_file()]


def first_undecodable_line(path: Path) -> int:
    """The line of the first byte sequence that is not UTF-8 (for a precise error)."""
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                return number
    return 1


def csv_header(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        try:
            return [h.strip() for h in next(csv.reader(fh), [])]
        except UnicodeDecodeError as exc:
            raise SourceError(first_undecodable_line(path), "文件不是 UTF-8 编码") from exc


def iter_csv(path: Path) -> Iterator[SourceRow]:
    """Stream rows of a CSV file (an empty field is ``""``, which validation treats as empty).

    A row with the wrong number of cells comes back with its ``problem`` set, and reading goes on.
    """
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        start = 1
        try:
            header = [h.strip() for h in next(reader, [])]
            width = len(header)
            start = reader.line_num + 1
            for cells in reader:
                if not any(cells):
                    start = reader.line_num + 1
                    continue
                if len(cells) != width:
                    problem = f"这一行有 {len(cells)} 列，表头有 {width} 列（逗号或引号不配对？）"
                    yield SourceRow(start, {}, None, problem)
                else:
                    yield SourceRow(start, dict(zip(header, cells, strict=True)))
                start = reader.line_num + 1
        except UnicodeDecodeError as exc:
            raise SourceError(first_undecodable_line(path), "文件不是 UTF-8 编码") from exc
        except csv.Error as exc:
            raise SourceError(reader.line_num, f"CSV 格式错误：{exc}") from exc


_NULL_TAG = "tag:yaml.org,2002:null"
NESTED = ("<nested>",)  # stands for a list or mapping where a single value belongs


def _scalar(node: yaml.Node) -> Any:
    """A YAML value as its source text, so that YAML 1.1 never rewrites it (``0012`` stays
    ``0012``, ``yes`` stays ``yes``, ``2025-02-30`` reaches validation as text)."""
    if isinstance(node, yaml.ScalarNode):
        return None if node.tag == _NULL_TAG else node.value
    return list(NESTED)


def read_yaml(path: Path) -> list[SourceRow]:
    """Rows of a YAML table (a list of mappings), with each row's and each field's line."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(first_undecodable_line(path), "文件不是 UTF-8 编码") from exc
    try:
        loader = yaml.SafeLoader(text)
        try:
            root = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise SourceError(mark.line + 1 if mark else 1, f"YAML 语法错误：{exc.problem}") from exc
    except yaml.YAMLError as exc:
        raise SourceError(1, f"YAML 无法读取：{exc}") from exc
    except RecursionError as exc:
        raise SourceError(1, "YAML 嵌套过深") from exc
    if root is None:
        return []
    if not isinstance(root, yaml.SequenceNode):
        raise SourceError(root.start_mark.line + 1, "YAML 表应为一个列表（每项一行数据）")
    return [_yaml_row(item) for item in root.value]


def _yaml_row(item: yaml.Node) -> SourceRow:
    line = item.start_mark.line + 1
    if not isinstance(item, yaml.MappingNode):
        return SourceRow(line, {}, None, "列表的每一项应为“字段: 值”的映射")
    values: dict[str, Any] = {}
    lines: dict[str, int] = {}
    for key_node, value_node in item.value:
        key_line = key_node.start_mark.line + 1
        if not isinstance(key_node, yaml.ScalarNode):
            return SourceRow(key_line, {}, None, "字段名应为文字")
        key = key_node.value.strip()
        if key in values:
            return SourceRow(key_line, {}, None, f"字段 {key} 在同一行中出现了两次")
        values[key] = _scalar(value_node)
        lines[key] = key_line
    return SourceRow(line, values, lines)


def yaml_header(rows: list[SourceRow]) -> list[str]:
    """Every field name used by any row, in first-seen order."""
    seen: dict[str, None] = {}
    for row in rows:
        for name in row.values:
            seen.setdefault(name, None)
    return list(seen)
