"""The demo assemblies of `seed_demo`: a past one held and closed, with minutes worth reading, and
one to come, convened, with proxies. Idempotent, and no e-mail leaves."""
import datetime

import pytest

from assemblies import demo, documents
from assemblies.models import Assembly, Proxy, Resolution

from .conftest import voter

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 12, 3)


def test_demo_assemblies_past_with_minutes_and_upcoming_with_proxies(mailoutbox):
    for n in range(40):
        voter(f"Demo{n}", "Voter")
    counts = demo.seed(today=TODAY)
    assert counts["past assembly voters"] == 40 and counts["upcoming assembly proxies"] == 8
    past = Assembly.objects.get(title=demo.PAST_TITLE)
    assert past.closed_at is not None and past.frozen
    resolutions = list(Resolution.objects.filter(assembly=past))
    assert [r.state for r in resolutions] == ["closed"] * 3 and {r.source for r in resolutions} == {"tally", "phones"}
    assert all(r.adopted is not None for r in resolutions)
    assert b"%PDF" in documents.minutes_pdf(past)[:8]
    upcoming = Assembly.objects.get(title=demo.UPCOMING_TITLE)
    assert upcoming.convened_at is not None and upcoming.opened_at is None and upcoming.kind == "extraordinary"
    assert Proxy.objects.filter(assembly=upcoming, revoked_at__isnull=True, voided_at__isnull=True).count() == 8
    assert mailoutbox == []
    assert demo.seed(today=TODAY) == {}  # a second run adds nothing
    assert Assembly.objects.count() == 2
