"""Celery tasks of the inventory. Without a broker they run in-process (eagerly)."""
from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import translation

from . import documents
from .models import PurchaseOrder


@shared_task(bind=True, autoretry_for=(OSError,), retry_backoff=60, max_retries=5)
def email_purchase_order(self, order_id: int) -> str:
    """E-mail a sent order's PDF to its supplier. Returns the address it went to."""
    order = PurchaseOrder.objects.select_related("supplier").get(pk=order_id)
    recipient = order.sent_to or order.supplier.email
    with translation.override(settings.LANGUAGE_CODE):
        context = {"order": order, "supplier": order.supplier, "coop_name": settings.COOP_NAME}
        subject = render_to_string("inventory/email/order_subject.txt", context).strip()
        body = render_to_string("inventory/email/order_body.txt", context)
        pdf = documents.purchase_order_pdf(order)
    message = EmailMessage(subject=subject, body=body, to=[recipient])
    message.attach(f"{order.reference}.pdf", pdf, "application/pdf")
    message.send()
    return recipient
