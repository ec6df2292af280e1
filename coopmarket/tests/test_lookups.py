"""`__any`: a list of values as one parameter (PostgreSQL arrays), IN elsewhere; same rows."""
import pytest

import coopmarket.lookups  # noqa: F401  (registers the lookup)
from members.models import Member
from members.tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


def test_any_finds_the_same_rows_as_in():
    members = [MemberFactory() for _ in range(4)]
    wanted = [members[0].pk, members[2].pk, 999999]

    assert sorted(Member.objects.filter(pk__any=wanted).values_list("pk", flat=True)) == sorted(wanted[:2])
    assert list(Member.objects.filter(pk__any=[])) == []
    assert Member.objects.filter(pk__any=wanted).count() == Member.objects.filter(pk__in=wanted).count()
