"""Collecting the problems of a load run: every one counted, the first ones kept in full."""

from __future__ import annotations

from collections import Counter

from volcredit.problems import Problem, Severity

KEEP_PER_KIND = 200  # problems of the same file, field and rule listed one by one before summing up


class ProblemLog:
    """All problems of a run. Every problem is counted; each kind lists its first ones in full."""

    def __init__(self) -> None:
        self.kept: list[Problem] = []
        self._per_kind: Counter[tuple[str, str, str, Severity]] = Counter()

    def add(self, problem: Problem) -> None:
        kind = (problem.file, problem.field, problem.rule, problem.severity)
        self._per_kind[kind] += 1
        if self._per_kind[kind] <= KEEP_PER_KIND:
            self.kept.append(problem)

    def error(self, file: str, line: int, field: str, message: str, rule: str = "") -> None:
        self.add(Problem(file, line, field, message, rule))

    def warning(self, file: str, line: int, field: str, message: str, rule: str = "") -> None:
        self.add(Problem(file, line, field, message, rule, Severity.WARNING))

    def count(self, severity: Severity) -> int:
        return sum(n for kind, n in self._per_kind.items() if kind[3] is severity)

    @property
    def has_errors(self) -> bool:
        return self.count(Severity.ERROR) > 0

    def lines(self) -> list[str]:
        """One line per kept problem (errors first, in file order), then one per cut-off kind."""
        ordered = sorted(
            self.kept, key=lambda p: (p.severity is not Severity.ERROR, p.file, p.line)
        )
        out = [str(p) for p in ordered]
        for (file, field, rule, severity), n in sorted(self._per_kind.items(), key=str):
            if n > KEEP_PER_KIND:
                label = "错误" if severity is Severity.ERROR else "警告"
                tag = f" [{rule}]" if rule else ""
                out.append(
                    f"{file}: {field}: 同类{label}另有 {n - KEEP_PER_KIND} 个未逐条列出{tag}"
                )
        return out
