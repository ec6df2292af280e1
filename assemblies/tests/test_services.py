"""Assembly services with the database: every rule of DOMAIN.md §10 that writes."""
import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from assemblies import selectors, services
from assemblies.models import Assembly, AssemblyMail, AssemblyParameters, BallotBox, Proxy, Resolution, VotedMark, Voter
from coopmarket.errors import RuleViolation
from members import services as member_services
from members.models import Member
from members.tests.factories import MemberFactory

from .conftest import (
    CUTOFF,
    EVENING,
    STARTS,
    TODAY,
    at,
    committed,
    convene,
    freeze,
    give,
    new_assembly,
    sign_in,
    supporter,
    unpaid_member,
    voter,
)

pytestmark = pytest.mark.django_db


class rule:  # noqa: N801 (used like pytest.raises)
    """`with rule("proxy_limit"):` asserts a RuleViolation with that code."""

    def __init__(self, code):
        self.code = code

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        assert kind is RuleViolation, f"expected RuleViolation {self.code}, got {kind}"
        assert exc.code == self.code, exc.code
        return True


def counts(assembly):
    quorum = selectors.quorum_of(Assembly.objects.get(pk=assembly.pk))
    return quorum.voters, quorum.present, quorum.represented


# --- creating and changing an assembly ----------------------------------------------------------

def test_cutoff_defaults_to_15_days_before(ag):
    assert ag.cutoff == CUTOFF
    assert (ag.kind, ag.convocation) == ("ordinary", 1)


def test_an_assembly_set_up_late_freezes_from_today():
    late = new_assembly(starts_at=at(datetime.date(2026, 3, 10), 18))
    assert late.cutoff == TODAY


@pytest.mark.parametrize(("fields", "field"), [
    ({"cutoff": TODAY - datetime.timedelta(days=1)}, "cutoff"),
    ({"cutoff": datetime.date(2026, 3, 29)}, "cutoff"),
    ({"starts_at": at(TODAY - datetime.timedelta(days=1))}, "starts_at"),
    ({"title": "AG\x00"}, "title"),
    ({"title": "x" * 201}, "title"),
    ({"kind": "annual"}, "kind"),
    ({"convocation": 3}, "convocation"),
])
def test_bad_assembly_fields_are_refused_and_nothing_is_written(db, fields, field):
    with pytest.raises(ValidationError) as caught:
        new_assembly(**fields)
    assert field in caught.value.message_dict
    assert not Assembly.objects.exists()


def test_kind_and_date_are_fixed_once_convened_but_the_place_may_be_corrected(ag):
    convene(ag)
    with rule("not_allowed"):
        services.assembly_update(assembly=ag, today=TODAY, kind="extraordinary")
    services.assembly_update(assembly=ag, today=TODAY, place="Gymnase Ordener")
    assert Assembly.objects.get(pk=ag.pk).place == "Gymnase Ordener"


# --- the voter list -----------------------------------------------------------------------------

def test_voters_are_active_unpaid_and_supporting_members_frozen_at_the_cutoff(ag, people):
    unpaid = unpaid_member("Ursula")
    support = supporter("Sam")
    nobody = MemberFactory(first_name="Nina", last_name="None", email="nina@example.org")
    gone = voter("Liam", "Leaver")
    member_services.member_leave(member=gone, reason="Moved", today=TODAY)
    freeze(ag)
    voters = set(Voter.objects.filter(assembly=ag).values_list("member_id", flat=True))
    assert voters == {m.pk for m in people.values()} | {unpaid.pk, support.pk}
    assert nobody.pk not in voters and gone.pk not in voters
    # After the cut-off, the list does not move: a new member does not vote, one who leaves still does.
    late = voter("Zoe", "Late")
    member_services.member_leave(member=people["emma"], reason="Moved", today=CUTOFF)
    assert services.voters_freeze(assembly=ag, today=CUTOFF, now=at(CUTOFF, 3)) == 7
    assert late.pk not in set(selectors.voter_members(ag).values_list("pk", flat=True))
    assert people["emma"].pk in set(selectors.voter_members(ag).values_list("pk", flat=True))


def test_household_associates_do_not_vote(ag, people):
    associate = member_services.associate_add(member=people["alice"], first_name="Léa", last_name="Bernard")
    freeze(ag)
    member, is_associate = selectors.find_member_by_code(associate.card_barcode)
    assert (member, is_associate) == (None, True)
    assert Voter.objects.filter(assembly=ag).count() == 5


def test_good_standing_parameter_removes_suspended_unsubscribed_and_blocked_members(ag, people):
    AssemblyParameters.objects.update_or_create(pk=1, defaults={"vote_requires_good_standing": True})
    Member.objects.filter(pk=people["bob"].pk).update(status="suspended")
    Member.objects.filter(pk=people["chloe"].pk).update(status="unsubscribed")
    Member.objects.filter(pk=people["david"].pk).update(status="alert", blocked_reason="Vol à l'étalage")
    freeze(ag)
    assert set(selectors.voter_members(ag)) == {people["alice"], people["emma"]}


def test_without_the_parameter_suspended_members_vote(ag, people):
    Member.objects.filter(pk=people["bob"].pk).update(status="suspended")
    freeze(ag)
    assert people["bob"] in set(selectors.voter_members(ag))


def test_the_sql_voter_filter_agrees_with_the_pure_rule(db):
    """`selectors.eligible_members` (SQL) and `rules.is_voter` (Python) give the same answer."""
    from assemblies import rules as r

    for good in (False, True):
        AssemblyParameters.objects.update_or_create(pk=1, defaults={"vote_requires_good_standing": good})
        for index, (membership, status, blocked) in enumerate(
            (m, s, b) for m in ("none", "unpaid", "active", "supporting", "left")
            for s in ("up_to_date", "suspended", "unsubscribed", "blocked", "on_leave", "not_concerned") for b in ("", "x")
        ):
            if good is False:
                m = MemberFactory(first_name=f"M{index}", last_name="Grid", email=f"grid{index}@example.org")
                Member.objects.filter(pk=m.pk).update(membership=membership, status=status, blocked_reason=blocked)
        sql = set(selectors.eligible_members().values_list("pk", flat=True))
        pure = {m.pk for m in Member.objects.all() if r.is_voter(
            membership=m.membership, status=m.status, blocked=bool(m.blocked_reason), good_standing_required=good)}
        assert sql == pure and sql


def test_the_list_cannot_be_frozen_before_the_cutoff(ag, people):
    with rule("not_allowed"):
        services.voters_freeze(assembly=ag, today=CUTOFF - datetime.timedelta(days=1), now=at(CUTOFF, 0))
    assert not Voter.objects.exists()


def test_daily_job_freezes_lists_whose_cutoff_has_come_once(ag, people):
    later = new_assembly(starts_at=at(datetime.date(2026, 6, 20), 14), title="AG extraordinaire")
    assert services.assemblies_freeze_due(today=CUTOFF - datetime.timedelta(days=1), now=at(CUTOFF, 0)) == 0
    assert services.assemblies_freeze_due(today=CUTOFF, now=at(CUTOFF, 2)) == 1
    assert services.assemblies_freeze_due(today=CUTOFF, now=at(CUTOFF, 3)) == 0  # idempotent
    voter("Late", "Comer")
    assert services.assemblies_freeze_due(today=CUTOFF + datetime.timedelta(days=1), now=at(CUTOFF, 4)) == 0
    assert Voter.objects.filter(assembly=ag).count() == 5
    assert not Voter.objects.filter(assembly=later).exists()


def test_sign_in_freezes_the_list_at_first_need_when_the_job_did_not_run(ag, people):
    result = sign_in(ag, people["alice"])
    assert ag.frozen and result.signed_in_now
    assert Voter.objects.filter(assembly=ag).count() == 5


# --- convening ----------------------------------------------------------------------------------

def test_convening_emails_every_voter_once_with_agenda_and_proxy_link(ag, people, settings):
    settings.COOP_SITE_URL = "https://coop.example.org"
    support = supporter("Sam")
    MemberFactory(first_name="Nina", last_name="None", email="nina@example.org")  # no shares: no vote
    with committed():
        assert services.assembly_convene(assembly=ag, today=TODAY, now=at(TODAY, 10)) == 6
    assert sorted(m.to[0] for m in mail.outbox) == sorted([m.email for m in people.values()] + [support.email])
    message = mail.outbox[0]
    assert "Assemblée générale 2026" in message.subject
    assert "2. Comptes 2025" in message.body
    assert f"https://coop.example.org/assemblies/{ag.pk}/proxy/" in message.body
    assert "Salle des fêtes" in message.body
    # Convening again sends nothing twice.
    with committed():
        assert services.assembly_convene(assembly=ag, today=TODAY, now=at(TODAY, 11)) == 0
    assert len(mail.outbox) == 6
    assert AssemblyMail.objects.filter(kind="convening").count() == 6


@pytest.mark.parametrize(("convocation", "last_day"), [(1, datetime.date(2026, 3, 13)), (2, datetime.date(2026, 3, 18))])
def test_convening_later_than_the_legal_delay_is_too_late(db, people, convocation, last_day):
    assembly = new_assembly(convocation=convocation)
    with rule("too_late"):
        services.assembly_convene(assembly=assembly, today=last_day + datetime.timedelta(days=1), now=at(last_day, 10))
    assert Assembly.objects.get(pk=assembly.pk).convened_at is None and not mail.outbox
    with committed():
        services.assembly_convene(assembly=assembly, today=last_day, now=at(last_day, 10))
    assert len(mail.outbox) == 5


def test_members_who_become_voters_by_the_cutoff_are_emailed_when_the_list_is_frozen(ag, people):
    convene(ag)
    newcomer = voter("Nora", "Newcomer")
    assert len(mail.outbox) == 5
    with committed():
        services.assemblies_freeze_due(today=CUTOFF, now=at(CUTOFF, 2))
    assert [m.to for m in mail.outbox[5:]] == [[newcomer.email]]


def test_members_who_left_are_not_emailed(ag, people):
    member_services.member_leave(member=people["emma"], reason="Moved", today=TODAY)
    convene(ag)
    assert people["emma"].email not in {m.to[0] for m in mail.outbox}


def test_an_open_assembly_cannot_be_convened(ag, people):
    sign_in(ag, people["alice"])
    with rule("not_allowed"):
        services.assembly_convene(assembly=ag, today=TODAY, now=EVENING)


# --- proxies ------------------------------------------------------------------------------------

def test_a_voter_gives_a_proxy_and_the_holder_is_emailed(ag, people):
    convene(ag)
    mail.outbox.clear()
    proxy = give(ag, people["chloe"], people["alice"])
    assert proxy.live
    assert [m.to for m in mail.outbox] == [[people["alice"].email]]
    assert "Chloé Petit" in mail.outbox[0].subject


def test_proxies_wait_for_the_convening(ag, people):
    with rule("not_allowed"):
        give(ag, people["chloe"], people["alice"])


def test_a_holder_carries_at_most_two_proxies(ag, people):
    convene(ag)
    give(ag, people["chloe"], people["alice"])
    give(ag, people["david"], people["alice"])
    with rule("proxy_limit"):
        give(ag, people["emma"], people["alice"])
    assert Proxy.objects.filter(holder=people["alice"]).count() == 2


def test_the_proxy_limit_is_a_parameter(ag, people):
    AssemblyParameters.objects.update_or_create(pk=1, defaults={"max_proxies": 1})
    convene(ag)
    give(ag, people["chloe"], people["alice"])
    with rule("proxy_limit"):
        give(ag, people["david"], people["alice"])


def test_no_chains_one_who_gave_receives_none_and_one_who_carries_gives_none(ag, people):
    convene(ag)
    give(ag, people["chloe"], people["alice"])
    with rule("not_allowed"):
        give(ag, people["david"], people["chloe"])  # chloe gave hers: she cannot carry
    with rule("not_allowed"):
        give(ag, people["alice"], people["bob"])  # alice carries one: she cannot give hers
    assert Proxy.objects.count() == 1


def test_one_proxy_per_giver_and_never_to_oneself(ag, people):
    convene(ag)
    give(ag, people["chloe"], people["alice"])
    with rule("not_allowed"):
        give(ag, people["chloe"], people["bob"])
    with pytest.raises(ValidationError):
        give(ag, people["david"], people["david"])


def test_proxies_only_between_voters(ag, people):
    convene(ag)
    outsider = MemberFactory(first_name="Nina", last_name="None", email="nina@example.org")
    with rule("not_allowed"):
        give(ag, outsider, people["alice"])
    with rule("not_allowed"):
        give(ag, people["alice"], outsider)


def test_a_proxy_can_be_revoked_until_the_assembly_opens_and_the_holder_is_told(ag, people):
    convene(ag)
    give(ag, people["chloe"], people["alice"])
    mail.outbox.clear()
    with committed():
        services.proxy_revoke(assembly=ag, giver=people["chloe"], now=at(TODAY, 12))
    assert not Proxy.objects.filter(selectors.LIVE_PROXY).exists()
    assert [m.to for m in mail.outbox] == [[people["alice"].email]]
    give(ag, people["chloe"], people["bob"])  # she may give it again
    sign_in(ag, people["alice"])  # the assembly opens
    with rule("not_allowed"):
        services.proxy_revoke(assembly=ag, giver=people["chloe"], now=EVENING)
    with rule("not_allowed"):
        give(ag, people["david"], people["bob"], today=STARTS.date())


def test_a_giver_who_signs_in_takes_their_vote_back(ag, people):
    convene(ag)
    give(ag, people["chloe"], people["alice"])
    give(ag, people["david"], people["alice"])
    sign_in(ag, people["alice"])
    assert counts(ag) == (5, 1, 2)
    result = sign_in(ag, people["chloe"], now=EVENING + datetime.timedelta(minutes=5))
    assert result.proxy_taken_back.holder == people["alice"]
    proxy = Proxy.objects.get(giver=people["chloe"])
    assert proxy.void_reason == "signed_in" and not proxy.live
    assert counts(ag) == (5, 2, 1)


def test_proxies_of_members_off_the_frozen_list_are_void(ag, people):
    convene(ag)
    give(ag, people["chloe"], people["alice"])
    give(ag, people["david"], people["bob"])
    Member.objects.filter(pk=people["bob"].pk).update(membership="left")  # stored value at the cut-off
    freeze(ag)
    assert set(Proxy.objects.filter(selectors.LIVE_PROXY).values_list("giver__first_name", flat=True)) == {"Chloé"}
    assert Proxy.objects.get(giver=people["david"]).void_reason == "not_a_voter"


# --- the door and the quorum --------------------------------------------------------------------

def test_the_first_sign_in_opens_the_assembly_and_signing_in_twice_changes_nothing(ag, people):
    first = sign_in(ag, people["alice"])
    assert ag.opened_at == EVENING and first.signed_in_now
    again = sign_in(ag, people["alice"], now=EVENING + datetime.timedelta(minutes=9))
    assert not again.signed_in_now and again.voter.present_at == EVENING
    assert counts(ag) == (5, 1, 0)


def test_a_member_who_does_not_vote_cannot_sign_in(ag, people):
    outsider = MemberFactory(first_name="Nina", last_name="None", email="nina@example.org")
    with pytest.raises(Voter.DoesNotExist):
        sign_in(ag, outsider)


def test_the_bureau_may_open_before_the_first_sign_in_but_not_before_the_cutoff(ag, people):
    with rule("not_allowed"):
        services.assembly_open(assembly=ag, today=TODAY, now=at(TODAY))
    services.assembly_open(assembly=ag, today=STARTS.date(), now=at(STARTS.date(), 18))
    assert Assembly.objects.get(pk=ag.pk).opened_at is not None


def test_quorum_counts_present_voters_and_the_proxies_they_carry(db):
    members = [voter(f"V{i}", "Quorum") for i in range(10)]
    assembly = new_assembly()
    convene(assembly)
    give(assembly, members[8], members[0])
    give(assembly, members[9], members[5])  # the holder never comes: this proxy counts for nothing
    sign_in(assembly, members[0])
    quorum = selectors.quorum_of(Assembly.objects.get(pk=assembly.pk))
    assert (quorum.voters, quorum.present, quorum.represented) == (10, 1, 1)
    assert quorum.required == Decimal("0.20") and quorum.reached  # 2 of 10 is exactly one fifth
    assembly.kind = "extraordinary"
    assembly.save()
    assert not selectors.quorum_of(Assembly.objects.get(pk=assembly.pk)).reached  # 2 of 10 < one quarter


def test_a_closed_assembly_takes_no_more_sign_ins(ag, people):
    sign_in(ag, people["alice"])
    services.assembly_close(assembly=ag, now=EVENING + datetime.timedelta(hours=2))
    with rule("not_allowed"):
        sign_in(ag, people["bob"])


# --- resolutions counted by the bureau ----------------------------------------------------------

def test_majority_defaults_from_the_kind(people):
    ordinary = new_assembly()
    extraordinary = new_assembly(kind="extraordinary", title="AGE")
    assert services.resolution_add(assembly=ordinary, text="Comptes").majority == "simple"
    assert services.resolution_add(assembly=extraordinary, text="Statuts").majority == "two_thirds"
    assert services.resolution_add(assembly=ordinary, text="Statuts", majority="two_thirds").majority == "two_thirds"
    assert [r.position for r in Resolution.objects.filter(assembly=ordinary)] == [1, 2]


def _opened_with(assembly, members):
    for member in members:
        sign_in(assembly, member)
    return assembly


def test_tally_never_exceeds_present_plus_represented(ag, people):
    convene(ag)
    give(ag, people["emma"], people["alice"])
    _opened_with(ag, [people["alice"], people["bob"]])  # 2 present + 1 represented
    resolution = services.resolution_add(assembly=ag, text="Comptes 2025")
    with pytest.raises(ValidationError):
        services.resolution_tally(resolution=resolution, votes_for=2, votes_against=1, votes_abstain=1, now=EVENING)
    assert Resolution.objects.get(pk=resolution.pk).state == "draft"
    done = services.resolution_tally(resolution=resolution, votes_for=2, votes_against=0, votes_abstain=1, now=EVENING)
    assert (done.votes_for, done.votes_against, done.votes_abstain, done.adopted) == (2, 0, 1, True)


@pytest.mark.parametrize(("majority", "votes", "adopted"), [
    ("two_thirds", (2, 1, 0), True),   # exactly two thirds passes
    ("two_thirds", (2, 1, 3), True),   # abstentions do not count
    ("two_thirds", (3, 2, 0), False),
    ("simple", (2, 2, 1), False),      # a tie fails
    ("simple", (1, 0, 4), True),       # abstentions do not count
    ("simple", (0, 0, 5), False),      # only abstentions: nothing adopted
])
def test_tallied_resolution_outcome(people, majority, votes, adopted):
    members = [voter(f"W{i}", "Tally") for i in range(5)] + list(people.values())
    assembly = _opened_with(new_assembly(), members[:6])
    resolution = services.resolution_add(assembly=assembly, text="Motion", majority=majority)
    done = services.resolution_tally(resolution=resolution, votes_for=votes[0], votes_against=votes[1],
                                     votes_abstain=votes[2], now=EVENING)
    assert done.adopted is adopted


@pytest.mark.parametrize("bad", [-1, "3", 1.5, True, None])
def test_tally_counts_are_whole_numbers(ag, people, bad):
    _opened_with(ag, [people["alice"]])
    resolution = services.resolution_add(assembly=ag, text="Motion")
    with pytest.raises(ValidationError):
        services.resolution_tally(resolution=resolution, votes_for=bad, votes_against=0, votes_abstain=0, now=EVENING)


def test_no_tally_before_the_assembly_opens(ag, people):
    resolution = services.resolution_add(assembly=ag, text="Motion")
    with rule("not_allowed"):
        services.resolution_tally(resolution=resolution, votes_for=0, votes_against=0, votes_abstain=0, now=EVENING)


# --- votes from phones --------------------------------------------------------------------------

@pytest.fixture
def voting(ag, people):
    """Alice carries Chloé's and David's proxies; Alice and Bob are signed in; a vote is open."""
    convene(ag)
    give(ag, people["chloe"], people["alice"])
    give(ag, people["david"], people["alice"])
    _opened_with(ag, [people["alice"], people["bob"]])
    resolution = services.resolution_add(assembly=ag, text="Approuver les comptes 2025")
    return services.resolution_open(resolution=resolution, now=EVENING)


def test_a_present_voter_votes_for_themselves_and_each_proxy_once(voting, people):
    p = people
    services.votes_cast(resolution=voting, voter=p["alice"], ballots=[
        {"choice": "for", "for_member": p["alice"].pk}, {"choice": "against", "for_member": p["chloe"].pk},
    ])
    services.votes_cast(resolution=voting, voter=p["alice"], ballots=[{"choice": "abstain", "for_member": p["david"].pk}])
    services.votes_cast(resolution=voting, voter=p["bob"], ballots=[{"choice": "for", "for_member": p["bob"].pk}])
    closed = services.resolution_close(resolution=voting, now=EVENING + datetime.timedelta(minutes=5))
    assert (closed.votes_for, closed.votes_against, closed.votes_abstain) == (2, 1, 1)
    assert closed.adopted is True and closed.source == "phones"
    assert BallotBox.objects.get(resolution=voting).sealed
    assert VotedMark.objects.filter(resolution=voting).count() == 4


def test_a_second_vote_for_the_same_member_is_already_voted_and_writes_nothing(voting, people):
    p = people
    services.votes_cast(resolution=voting, voter=p["alice"], ballots=[{"choice": "for", "for_member": p["alice"].pk}])
    with rule("already_voted"):
        services.votes_cast(resolution=voting, voter=p["alice"], ballots=[
            {"choice": "against", "for_member": p["chloe"].pk}, {"choice": "against", "for_member": p["alice"].pk},
        ])
    box = BallotBox.objects.get(resolution=voting)
    assert (box.votes_for, box.votes_against) == (1, 0)
    assert set(VotedMark.objects.values_list("member_id", flat=True)) == {p["alice"].pk}


def test_voting_for_a_member_whose_proxy_one_does_not_carry_is_refused(voting, people):
    with pytest.raises(services.NotYourVote):
        services.votes_cast(resolution=voting, voter=people["bob"], ballots=[{"choice": "for", "for_member": people["chloe"].pk}])
    assert not VotedMark.objects.exists()


def test_only_signed_in_voters_vote(voting, people):
    with pytest.raises(services.NotYourVote):
        services.votes_cast(resolution=voting, voter=people["emma"], ballots=[{"choice": "for", "for_member": people["emma"].pk}])


def test_a_giver_who_comes_votes_themselves_and_the_holder_no_longer_can(voting, people):
    sign_in(voting.assembly, people["chloe"], now=EVENING + datetime.timedelta(minutes=2))
    with pytest.raises(services.NotYourVote):
        services.votes_cast(resolution=voting, voter=people["alice"], ballots=[{"choice": "for", "for_member": people["chloe"].pk}])
    services.votes_cast(resolution=voting, voter=people["chloe"], ballots=[{"choice": "against", "for_member": people["chloe"].pk}])


@pytest.mark.parametrize("ballots", [
    [], [{"choice": "maybe", "for_member": 1}], [{"choice": "for"}], ["for"], [{"choice": "for", "for_member": "1"}],
])
def test_malformed_ballots_are_refused(voting, people, ballots):
    with pytest.raises(ValidationError):
        services.votes_cast(resolution=voting, voter=people["alice"], ballots=ballots)


def test_one_ballot_per_member_in_a_request(voting, people):
    with pytest.raises(ValidationError):
        services.votes_cast(resolution=voting, voter=people["alice"], ballots=[
            {"choice": "for", "for_member": people["alice"].pk}, {"choice": "against", "for_member": people["alice"].pk},
        ])


def test_no_vote_once_closed_and_one_open_vote_at_a_time(voting, people):
    second = services.resolution_add(assembly=voting.assembly, text="Élire le comité")
    with rule("not_allowed"):
        services.resolution_open(resolution=second, now=EVENING)
    services.resolution_close(resolution=voting, now=EVENING)
    with rule("not_allowed"):
        services.votes_cast(resolution=voting, voter=people["bob"], ballots=[{"choice": "for", "for_member": people["bob"].pk}])
    with rule("not_allowed"):
        services.resolution_open(resolution=voting, now=EVENING)  # voted already
    with rule("not_allowed"):
        services.resolution_tally(resolution=voting, votes_for=1, votes_against=0, votes_abstain=0, now=EVENING)
    services.resolution_open(resolution=second, now=EVENING)


def test_the_assembly_closes_only_once_no_vote_is_open(voting):
    with rule("not_allowed"):
        services.assembly_close(assembly=voting.assembly, now=EVENING)
    services.resolution_close(resolution=voting, now=EVENING)
    services.assembly_close(assembly=voting.assembly, now=EVENING)
    assert Assembly.objects.get(pk=voting.assembly_id).closed_at is not None

