"""The secret ballot (DOMAIN.md §10): ballots are stored without the voter, the fact of having
voted apart, and no query can join them.

What could link a vote to a voter, and what the design does about it:
- a column naming the voter or the mark: the ballot box has none (it holds counts only);
- ids: the box and the marks have random UUID keys (no sequence gives the order of voting);
- timestamps: neither table has a date or time column;
- insertion order: there is no row per ballot to put in order, only one box per resolution;
- transaction ordering (PostgreSQL's `xmin`, readable by any query): a vote adds to the box in the
  voter's transaction, but closing the vote rewrites the box in the closing transaction, so once
  the vote is closed the box's `xmin` is no voter's.
"""
import uuid

import pytest
from django.db import connection
from django.db.models import ForeignKey, OneToOneField

from assemblies import services
from assemblies.models import BallotBox, Resolution, VotedMark

from .conftest import EVENING, convene, give, new_assembly, sign_in, voter

BOX = BallotBox._meta.db_table
MARKS = VotedMark._meta.db_table


def columns(table: str) -> dict[str, str]:
    with connection.cursor() as cursor:
        return {c.name: c.type_code for c in connection.introspection.get_table_description(cursor, table)}


def foreign_keys(table: str) -> set[str]:
    """The tables a table's foreign keys point to."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return {c["foreign_key"][0] for c in constraints.values() if c["foreign_key"]}


def voting_world():
    """Four voters signed in (one carrying a proxy) and an open vote on one resolution."""
    members = [voter(name, "Secret") for name in ("Ada", "Ben", "Cleo", "Dan", "Eve")]
    assembly = new_assembly()
    convene(assembly)
    give(assembly, members[4], members[0])
    for member in members[:4]:
        sign_in(assembly, member)
    resolution = services.resolution_add(assembly=assembly, text="Approuver les comptes")
    services.resolution_open(resolution=resolution, now=EVENING)
    return members, resolution


def cast_all(members, resolution):
    services.votes_cast(resolution=resolution, voter=members[0], ballots=[
        {"choice": "for", "for_member": members[0].pk}, {"choice": "against", "for_member": members[4].pk}])
    services.votes_cast(resolution=resolution, voter=members[1], ballots=[{"choice": "against", "for_member": members[1].pk}])
    services.votes_cast(resolution=resolution, voter=members[2], ballots=[{"choice": "for", "for_member": members[2].pk}])
    services.votes_cast(resolution=resolution, voter=members[3], ballots=[{"choice": "abstain", "for_member": members[3].pk}])


def test_the_ballot_box_holds_counts_and_nothing_that_names_a_voter_a_time_or_a_mark(db):
    assert set(columns(BOX)) == {"id", "resolution_id", "votes_for", "votes_against", "votes_abstain", "sealed"}
    assert foreign_keys(BOX) == {Resolution._meta.db_table}
    relations = {f.related_model for f in BallotBox._meta.get_fields() if isinstance(f, (ForeignKey, OneToOneField))}
    assert relations == {Resolution}


def test_the_voted_marks_hold_who_voted_and_nothing_about_the_choice_or_the_time(db):
    assert set(columns(MARKS)) == {"id", "resolution_id", "member_id"}
    assert foreign_keys(MARKS) == {Resolution._meta.db_table, "members_member"}
    assert BOX not in foreign_keys(MARKS) and MARKS not in foreign_keys(BOX)


def test_keys_are_random_uuids_not_a_sequence(db):
    for model in (BallotBox, VotedMark):
        field = model._meta.pk
        assert field.get_internal_type() == "UUIDField" and field.default is uuid.uuid4


def test_votes_add_to_one_box_per_resolution_whatever_the_number_of_voters(db):
    members, resolution = voting_world()
    cast_all(members, resolution)
    assert BallotBox.objects.filter(resolution=resolution).count() == 1
    assert VotedMark.objects.filter(resolution=resolution).count() == 5
    box = BallotBox.objects.get(resolution=resolution)
    assert (box.votes_for, box.votes_against, box.votes_abstain) == (2, 2, 1)
    # Every row of the only possible join (on the resolution) is the same for every voter.
    joined = {
        (mark.member_id, box.votes_for, box.votes_against, box.votes_abstain)
        for mark in VotedMark.objects.filter(resolution=resolution)
        for box in BallotBox.objects.filter(resolution=mark.resolution_id)
    }
    assert {row[1:] for row in joined} == {(2, 2, 1)}
    for version in VotedMark.objects.values_list("id", flat=True):
        assert version.version == 4


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("migrated_rows")
def test_once_closed_the_box_carries_no_voters_transaction():
    members, resolution = voting_world()
    cast_all(members, resolution)

    def xmins(sql, *params):
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return {row[0] for row in cursor.fetchall()}

    marks = xmins(f"SELECT xmin::text FROM {MARKS} WHERE resolution_id = %s", resolution.pk)
    box_sql = f"SELECT xmin::text FROM {BOX} WHERE resolution_id = %s"
    # While the vote is open, the box row was last written by the last voter's transaction (its
    # xid is next to that voter's marks): this is why the room sees no split before the close.
    services.resolution_close(resolution=resolution, now=EVENING)
    (sealed,) = xmins(box_sql, resolution.pk)
    assert sealed not in marks
    assert int(sealed) > max(int(x) for x in marks)  # the close's own transaction, after every vote
    # The resolution row, which now holds the counts, was written by the close too.
    assert xmins(f"SELECT xmin::text FROM {Resolution._meta.db_table} WHERE id = %s", resolution.pk).isdisjoint(marks)
