"""What the assemblies keep about a member, for their data export (DOMAIN.md §8, §10): the
assemblies they were a voter of and whether they signed in, the proxies they gave and carried,
the resolutions they voted on (the fact only: ballots are secret and hold no voter), and the
assembly e-mails sent to them. Nothing here holds free text about the member (the e-mail log
stores no address), so anonymising the member's row is enough: no anonymiser is registered.
Registered with members.privacy in AssembliesConfig.ready()."""
from __future__ import annotations

from members.models import Member
from members.privacy import iso, register_export_section

from .models import AssemblyMail, Proxy, VotedMark, Voter


def _proxy(proxy: Proxy, other: Member) -> dict:
    return {
        "assembly": proxy.assembly.title,
        "member_number": other.display_number,
        "given_at": iso(proxy.created_at),
        "revoked_at": iso(proxy.revoked_at),
        "void_since": iso(proxy.voided_at),
        "void_because": proxy.void_reason,
    }


def export_assemblies(member: Member) -> dict:
    proxies = Proxy.objects.select_related("assembly", "giver", "holder")
    return {
        "attendance": [
            {"assembly": voter.assembly.title, "starts_at": iso(voter.assembly.starts_at), "signed_in_at": iso(voter.present_at)}
            for voter in Voter.objects.filter(member=member).select_related("assembly").order_by("assembly__starts_at", "id")
        ],
        "proxies_given": [_proxy(p, p.holder) for p in proxies.filter(giver=member).order_by("created_at", "id")],
        "proxies_carried": [_proxy(p, p.giver) for p in proxies.filter(holder=member).order_by("created_at", "id")],
        "voted_on": [
            {"assembly": mark.resolution.assembly.title, "resolution": mark.resolution.text}
            for mark in VotedMark.objects.filter(member=member).select_related("resolution__assembly")
        ],
        "emails": [
            {"assembly": mail.assembly.title, "kind": mail.kind, "sent_at": iso(mail.sent_at)}
            for mail in AssemblyMail.objects.filter(member=member).select_related("assembly").order_by("sent_at", "id")
        ],
    }


def register() -> None:
    register_export_section("assemblies", export_assemblies)
