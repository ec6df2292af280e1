"""Celery tasks of the members app. Without a broker they run in-process (eagerly)."""
from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import translation

from .models import Payment


@shared_task(bind=True, autoretry_for=(OSError,), retry_backoff=60, max_retries=5)
def payment_receipt_send(self, payment_id: int) -> str:
    """E-mail the member a receipt for an online payment or its refund. Returns the address ('' if none)."""
    payment = Payment.objects.select_related("subscription__member", "subscription__share_class").get(pk=payment_id)
    member = payment.subscription.member
    if not member.email or member.anonymised_on:
        return ""
    with translation.override(settings.LANGUAGE_CODE):
        context = {
            "payment": payment,
            "subscription": payment.subscription,
            "member": member,
            "refund": payment.kind == Payment.Kind.REFUND,
            "coop_name": settings.COOP_NAME,
        }
        subject = render_to_string("members/email/receipt_subject.txt", context).strip()
        body = render_to_string("members/email/receipt_body.txt", context)
    EmailMessage(subject=subject, body=body, to=[member.email]).send()
    return member.email
