"""What an import found and did: problems with their place in the files, counts. Pure."""
from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

# What the counts are of, for people.
LABELS = {
    "templates": _("shift templates"), "members": _("members"), "subscriptions": _("share subscriptions"),
    "payments": _("payments"), "associates": _("household associates"), "slots": _("regular slots"),
    "absences": _("leaves and exemptions"), "extensions": _("extensions"), "qualifications": _("qualifications"),
}

ERROR = "error"
WARNING = "warning"


def _escaped(text: str) -> str:
    return text.replace("\x00", "\\0")


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or worth knowing) about the files, where it is: `file:line: column: message`.

    `line` is the file's own line number (the header is line 1; for a workbook, the sheet's row);
    None for the file as a whole. `column` is "-" when no single column is at fault."""

    file: str
    line: int | None
    column: str
    message: str
    level: str = ERROR

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.column}: {self.message}"

    def as_dict(self) -> dict:
        return {"file": self.file, "line": self.line, "column": self.column, "message": self.message, "level": self.level}

    @property
    def sort_key(self) -> tuple:
        return (self.file, self.line or 0, self.column, self.message)


@dataclass
class Report:
    """The outcome of an import or a dry run. Nothing is written when `errors` is not empty."""

    dry_run: bool = False
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)  # data rows read per file
    created: dict[str, int] = field(default_factory=dict)
    changed: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)  # statuses of the members imported
    seconds: float = 0.0

    def add(self, problem: Problem) -> None:
        if any("\x00" in text for text in (problem.file, problem.column, problem.message)):
            # A NUL in a header or a file name: shown escaped (PostgreSQL stores no NUL in text).
            problem = Problem(_escaped(problem.file), problem.line, _escaped(problem.column), _escaped(problem.message), problem.level)
        (self.errors if problem.level == ERROR else self.warnings).append(problem)

    def error(self, file: str, line: int | None, column: str, message: str) -> None:
        self.add(Problem(file, line, column, str(message)))

    def warn(self, file: str, line: int | None, column: str, message: str) -> None:
        self.add(Problem(file, line, column, str(message), level=WARNING))

    def count(self, what: str, created: int = 0, changed: int = 0) -> None:
        if created:
            self.created[what] = self.created.get(what, 0) + created
        if changed:
            self.changed[what] = self.changed.get(what, 0) + changed

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def imported(self) -> bool:
        return self.ok and not self.dry_run

    @property
    def total_created(self) -> int:
        return sum(self.created.values())

    @property
    def total_changed(self) -> int:
        return sum(self.changed.values())

    @property
    def summary(self) -> str:
        return f"{self.total_created} created, {self.total_changed} changed"

    def labelled(self, counts: dict[str, int]) -> list[tuple[str, int]]:
        return [(str(LABELS.get(name, name)), n) for name, n in sorted(counts.items())]

    def problems(self) -> list[Problem]:
        return sorted(self.errors, key=lambda p: p.sort_key) + sorted(self.warnings, key=lambda p: p.sort_key)

    def as_dict(self) -> dict:
        return {
            "dry_run": self.dry_run,
            "imported": self.imported,
            "summary": self.summary,
            "created": dict(sorted(self.created.items())),
            "changed": dict(sorted(self.changed.items())),
            "rows": dict(sorted(self.rows.items())),
            "statuses": dict(sorted(self.statuses.items())),
            "errors": [p.as_dict() for p in sorted(self.errors, key=lambda p: p.sort_key)],
            "warnings": [p.as_dict() for p in sorted(self.warnings, key=lambda p: p.sort_key)],
        }

    @classmethod
    def from_dict(cls, data: dict) -> Report:
        report = cls(dry_run=data.get("dry_run", False), rows=data.get("rows", {}), created=data.get("created", {}),
                     changed=data.get("changed", {}), statuses=data.get("statuses", {}))
        for item in [*data.get("errors", []), *data.get("warnings", [])]:
            report.add(Problem(item["file"], item["line"], item["column"], item["message"], item.get("level", ERROR)))
        return report
