"""The assembly's printed documents (WeasyPrint through `coopmarket.pdf`): the sign-in sheet with
a signature box per voter and per proxy, and the minutes."""
from __future__ import annotations

import datetime
import zoneinfo

from django.conf import settings

from coopmarket.pdf import render_pdf

from . import selectors
from .models import Assembly


def _local(moment: datetime.datetime | None):
    return moment.astimezone(zoneinfo.ZoneInfo(settings.COOP_TIME_ZONE)) if moment else None


def _proxies_by_holder(assembly: Assembly) -> dict[int, list]:
    by_holder: dict[int, list] = {}
    for proxy in selectors.live_proxies(assembly):
        by_holder.setdefault(proxy.holder_id, []).append(proxy.giver)
    return by_holder


def _common(assembly: Assembly) -> dict:
    return {
        "assembly": assembly, "coop_name": settings.COOP_NAME, "starts_at": _local(assembly.starts_at),
        "quorum": selectors.quorum_of(assembly),
    }


def sign_in_sheet_pdf(assembly: Assembly) -> bytes:
    """Every voter by name with a signature box, the proxies they carry (a box for each) and the
    one they gave; voters already signed in at the desk show the time."""
    by_holder = _proxies_by_holder(assembly)
    voters = [
        {"member": member, "present_at": _local(member.present_at), "carries": by_holder.get(member.pk, [])}
        for member in selectors.voter_rows(assembly)
    ]
    return render_pdf("assemblies/pdf/sign_in.html", {**_common(assembly), "voters": voters})


def minutes_pdf(assembly: Assembly) -> bytes:
    """The assembly, the quorum (reached or not), attendance, each resolution with its counts and
    outcome; a draft until the bureau closes the assembly."""
    by_holder = _proxies_by_holder(assembly)
    present = [
        {"member": member, "present_at": _local(member.present_at), "carries": by_holder.get(member.pk, [])}
        for member in selectors.voter_rows(assembly).filter(present_at__isnull=False)
    ] if assembly.frozen else []
    return render_pdf("assemblies/pdf/minutes.html", {
        **_common(assembly), "present": present, "resolutions": selectors.resolutions_with_turnout(assembly),
        "opened_at": _local(assembly.opened_at), "closed_at": _local(assembly.closed_at),
    })
