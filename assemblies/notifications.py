"""E-mails about assemblies, sent by Celery tasks (`assemblies.tasks`) and logged once each.

The services call `convened` and `proxy_changed` inside their transaction: the task is queued when
it commits, and a broker that is down never undoes the action. `deliver` writes the
`AssemblyMail` row (unique) and sends in one transaction: a row that exists means the message went,
so a re-run sends nothing twice, and a failed send rolls its row back for the retry.
`muted()` (the kernel's, shared with the shift e-mails) silences the hooks (demo data).
"""
from __future__ import annotations

import logging
import zoneinfo

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from coopmarket import queueing
from coopmarket.queueing import muted  # noqa: F401 (the e-mails' switch: notifications.muted())
from members.models import Member

from . import rules as r
from . import selectors
from .models import Assembly, AssemblyMail, Proxy

logger = logging.getLogger(__name__)


def _queue(task_name: str, *args) -> None:
    """Queue the task when the transaction commits (muted: not at all; see `coopmarket.queueing`)."""
    if queueing.is_muted():
        return

    def send():
        from . import tasks

        queueing.enqueue(tasks, task_name, *args)

    transaction.on_commit(send)


def convened(assembly_id: int) -> None:
    """E-mail the convening to every voter not e-mailed yet."""
    _queue("send_convening", assembly_id)


def proxy_changed(proxy_id: int, change: str) -> None:
    """Tell the holder a proxy was given to them ("given") or taken back ("revoked")."""
    _queue("notify_proxy", proxy_id, change)


def _absolute(path: str) -> str:
    """A link for an e-mail: `COOP_SITE_URL`, else the first plain host allowed, else the bare path."""
    base = getattr(settings, "COOP_SITE_URL", "").rstrip("/")
    if not base:
        hosts = [h for h in settings.ALLOWED_HOSTS if h and h != "*" and not h.startswith(".")]
        base = f"{'http' if settings.DEBUG else 'https'}://{hosts[0]}" if hosts else ""
    return base + path


def _reachable(member: Member) -> bool:
    return bool(member.email) and not member.anonymised_on and member.membership != Member.Membership.LEFT


def deliver(*, assembly: Assembly, member: Member, kind: str, key: str, template: str, context: dict) -> bool:
    """Send one message and log it; nothing when it was sent before or the member cannot be reached."""
    if not _reachable(member):
        return False
    with translation.override(settings.LANGUAGE_CODE):
        full = {"coop_name": settings.COOP_NAME, "assembly": assembly, "member": member,
                "starts_at": assembly.starts_at.astimezone(zoneinfo.ZoneInfo(settings.COOP_TIME_ZONE)),
                "proxy_url": _absolute(reverse("assemblies:proxy", args=[assembly.pk])),
                "me_url": _absolute(reverse("me:page")), **context}
        subject = " ".join(render_to_string(f"assemblies/email/{template}_subject.txt", full).split())
        body = render_to_string(f"assemblies/email/{template}_body.txt", full)
    with transaction.atomic():
        try:
            with transaction.atomic():
                AssemblyMail.objects.create(assembly=assembly, member=member, kind=kind, key=key)
        except IntegrityError:
            return False
        EmailMessage(subject=subject, body=body, to=[member.email], headers={"Auto-Submitted": "auto-generated"}).send()
    return True


def convening_pending(assembly: Assembly) -> QuerySet[Member]:
    """Voters (the frozen list, or the members who would vote now) not e-mailed the convening yet."""
    sent = AssemblyMail.objects.filter(assembly=assembly, member=OuterRef("pk"), kind=AssemblyMail.Kind.CONVENING)
    return (
        selectors.voter_members(assembly).exclude(email="").filter(anonymised_on__isnull=True)
        .exclude(membership=Member.Membership.LEFT).exclude(Exists(sent)).order_by("pk")
    )


def convening_send(*, assembly_id: int) -> int:
    """The convening: agenda, date, place, quorum required and the proxy link, to each voter once."""
    assembly = Assembly.objects.filter(pk=assembly_id, convened_at__isnull=False, opened_at__isnull=True).first()
    if assembly is None:
        return 0
    rules = selectors.current_rules()
    context = {
        "quorum": r.quorum_required(assembly.kind, assembly.convocation, rules),
        "max_proxies": rules.max_proxies,
    }
    sent = 0
    for member in convening_pending(assembly).iterator(chunk_size=500):
        sent += deliver(assembly=assembly, member=member, kind=AssemblyMail.Kind.CONVENING, key="",
                        template="convening", context=context)
    return sent


def proxy_notice(*, proxy_id: int, change: str) -> bool:
    """Tell the holder they carry (or no longer carry) a voter's proxy."""
    proxy = Proxy.objects.select_related("assembly", "giver", "holder").filter(pk=proxy_id).first()
    if proxy is None or proxy.assembly.opened_at is not None:
        return False
    if change == "given":
        kind, template = AssemblyMail.Kind.PROXY_GIVEN, "proxy_given"
    else:
        kind, template = AssemblyMail.Kind.PROXY_REVOKED, "proxy_revoked"
    return deliver(assembly=proxy.assembly, member=proxy.holder, kind=kind, key=f"proxy-{proxy.pk}",
                   template=template, context={"proxy": proxy, "giver": proxy.giver})
