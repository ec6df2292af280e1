"""`/stripe/webhook/`: Stripe's events, signature-verified, handed to `stripe_payments.event_process`.

Nothing is read from the body before the `Stripe-Signature` header is verified against
`STRIPE_WEBHOOK_SECRET` (HMAC-SHA256, at most 300 s old): a missing, wrong or stale signature
and a malformed body are answered 400 and nothing is written.
"""
import json
import logging

import stripe
from django.conf import settings
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import stripe_payments

logger = logging.getLogger("members.stripe")


def _error(status: int, detail: str, code: str) -> JsonResponse:
    return JsonResponse({"detail": detail, "code": code}, status=status)


def _well_formed(event) -> bool:
    return (
        isinstance(event, dict)
        and isinstance(event.get("id"), str) and event["id"]
        and isinstance(event.get("type"), str) and event["type"]
        and isinstance(event.get("data"), dict)
        and isinstance(event["data"].get("object"), dict)
    )


@csrf_exempt
@require_POST
def stripe_webhook(request):
    if not stripe_payments.online_payment_enabled():
        return _error(404, "Online payment is not set up for this coop.", "not_configured")
    header = request.headers.get("Stripe-Signature")
    if not header:
        return _error(400, "Missing Stripe-Signature header.", "bad_signature")
    try:
        payload = request.body.decode("utf-8")
        stripe.WebhookSignature.verify_header(
            payload, header, settings.STRIPE_WEBHOOK_SECRET, stripe_payments.WEBHOOK_TOLERANCE_SECONDS
        )
    except (UnicodeDecodeError, stripe.SignatureVerificationError) as exc:
        logger.warning("Stripe webhook refused: %s", exc)
        return _error(400, "Invalid Stripe signature.", "bad_signature")
    try:
        event = json.loads(payload)
    except ValueError:
        return _error(400, "Malformed event.", "malformed")
    if not _well_formed(event):
        return _error(400, "Malformed event.", "malformed")
    outcome = stripe_payments.event_process(event=event, now=timezone.now())
    return JsonResponse({"received": True, "outcome": outcome})
