from django.conf import settings

from . import roles


def coop(request):
    user = getattr(request, "user", None)
    return {
        "coop_name": settings.COOP_NAME,
        "is_coordinator": roles.is_coordinator(user),
        "is_cashier": roles.is_cashier(user),
        "is_supply": roles.is_supply(user),
        "has_member": bool(user and user.is_authenticated and hasattr(user, "member")),
    }
