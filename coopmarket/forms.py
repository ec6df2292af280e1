"""Form helpers shared by every app."""
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from .errors import RuleViolation


def add_service_errors(form, exc: Exception) -> None:
    """Show a service's ValidationError / RuleViolation on the form it came from."""
    if isinstance(exc, RuleViolation):
        form.add_error(None, exc.message)
        return
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            target = field if field in form.fields else None
            aliases = {"payment_method": "method", "method": "payment_method"}
            if target is None and aliases.get(field) in form.fields:
                target = aliases[field]
            for message in errors:
                form.add_error(target if target != NON_FIELD_ERRORS else None, message)
        return
    if isinstance(exc, ValidationError):
        for message in exc.messages:
            form.add_error(None, message)
        return
    raise exc
