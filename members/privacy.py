"""The member's personal data: what their export holds and what anonymisation erases (DOMAIN.md §8).

Two registries, because `members` must never import the apps above it (checkout -> shifts ->
members): each app that keeps something about a member registers, from its `AppConfig.ready()`,

- an **export section**: `register_export_section("counter_events", build)`, where
  `build(member) -> JSON-ready value` returns what that app keeps about the member;
- an **anonymiser**: `register_anonymiser("shifts", erase)`, where `erase(member, today)` blanks
  that app's free text and contact data about the member, inside the anonymisation's transaction
  (raise to refuse: everything rolls back).

The members app registers its own sections the same way (`members.apps`). A new app (assemblies:
attendance and proxies, §10) adds its section and anonymiser with two calls and nothing here
changes. `tests` check the export against DOMAIN.md §8's list, so a forgotten section shows.

Append-only rows (counter events, status history, payments, till checks) are never edited, with
one narrow exception: `ImmutableQuerySet.anonymise(**fields)` blanks the free-text fields a model
lists in `anonymisable_fields`, and nothing else (see members/models.py).
"""
from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

ExportBuilder = Callable[[Any], Any]
Anonymiser = Callable[[Any, datetime.date], None]

_export_sections: dict[str, ExportBuilder] = {}
_anonymisers: dict[str, Anonymiser] = {}


def register_export_section(name: str, build: ExportBuilder) -> None:
    """Add (or replace, by name: `ready()` may run twice) a section of the member's data export."""
    _export_sections[name] = build


def register_anonymiser(name: str, erase: Anonymiser) -> None:
    """Add (or replace, by name) a step of the anonymisation of a member who left."""
    _anonymisers[name] = erase


def export_sections() -> list[str]:
    return list(_export_sections)


def member_export(member) -> dict:
    """Everything kept about a member, section by section, for their own download."""
    return {name: build(member) for name, build in _export_sections.items()}


def anonymise_everywhere(member, *, today: datetime.date) -> None:
    """Run every registered anonymiser (inside the caller's transaction)."""
    for erase in _anonymisers.values():
        erase(member, today)


def iso(value) -> str | None:
    """Dates and datetimes as ISO 8601 strings (None stays None)."""
    return value.isoformat() if value is not None else None
