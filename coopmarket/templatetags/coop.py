from django import forms, template
from django.conf import settings
from django.utils.formats import number_format
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

register = template.Library()


@register.filter
def bs(field):
    """Render a bound field's widget with its Bootstrap 5 class (and is-invalid on error)."""
    widget = field.field.widget
    if isinstance(widget, (forms.CheckboxInput,)):
        css = "form-check-input"
    elif isinstance(widget, (forms.Select, forms.SelectMultiple)):
        css = "form-select"
    else:
        css = "form-control"
    if field.errors:
        css += " is-invalid"
    existing = widget.attrs.get("class", "")
    return field.as_widget(attrs={"class": f"{existing} {css}".strip()})


@register.filter
def is_checkbox(field):
    return isinstance(field.field.widget, forms.CheckboxInput)


def amount(value) -> str:
    """A money amount in the active language, two decimals, grouped: '1,234.50' / '1 234,50'."""
    if value in (None, ""):
        return ""
    return number_format(value, decimal_pos=2, use_l10n=True, force_grouping=True)


@register.filter
def euros(value):
    """12.5 -> '12.50 €' in English, '12,50 €' in French (a no-break space keeps the sign on the line)."""
    if value in (None, ""):
        return ""
    return f"{amount(value)}\u00a0€"


@register.filter
def email_wbr(value):
    """An e-mail address that may wrap only after '@' and before dots, not in the middle of a word."""
    text = str(conditional_escape(value or ""))
    return mark_safe(text.replace("@", "@<wbr>").replace(".", "<wbr>."))  # escaped above


@register.filter
def share_label(code, name):
    """'A – Supporting shares', or just the name when it already says the class ('Parts A – …')."""
    code, name = str(code or ""), str(name or "")
    if not name:
        return code
    if code and code in name.replace("–", " ").replace("-", " ").split():
        return name
    return f"{code} – {name}"


@register.simple_tag
def coop_name():
    """The coop's name, for templates rendered without a request (e-mails)."""
    return settings.COOP_NAME
