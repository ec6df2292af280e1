"""The 26 worked cases of shared/status-vectors.json (copied into the project), through the pure
status code: events by kind are resolved in date order, then the status is computed as of each
date and compared with every field the case lists."""
import datetime
import json
from pathlib import Path

import pytest

from shifts import status as st

VECTORS = json.loads((Path(__file__).parent / "data" / "status-vectors.json").read_text())["vectors"]


def _date(value):
    return datetime.date.fromisoformat(value) if value else None


def _periods(items):
    return [st.Period(_date(p["start"]), _date(p.get("end"))) for p in items]


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_status_vector(vector):
    member = vector["member"]
    shift_type = member["shift_type"]
    raw = [{**e, "date": _date(e["date"])} for e in vector["events"]]
    events = st.resolve_sequence(raw, shift_type=shift_type)
    for expected in vector["expect"]:
        day = _date(expected["as_of"])
        result = st.compute(
            day=day,
            shift_type=shift_type,
            events=events,
            blocked=member.get("blocked", False),
            has_slot=member.get("has_slot", True),
            work_start=_date(member.get("work_start")) or datetime.date(2025, 1, 1),
            leaves=_periods(vector.get("leaves", [])),
            exemptions=_periods(vector.get("exemptions", [])),
            extension_grants=[_date(g) for g in vector.get("extensions", [])],
        )
        got = {
            "status": result.status,
            "standard": result.standard,
            "ftop": result.ftop,
            "makeups_owed": result.makeups_owed,
            "alert_deadline": result.alert_deadline.isoformat() if result.alert_deadline else None,
        }
        for key in ("status", "standard", "ftop", "makeups_owed", "alert_deadline"):
            if key in expected:
                assert got[key] == expected[key], f"{vector['name']} as of {day}: {key}"
