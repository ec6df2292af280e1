from django import forms, template

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


@register.filter
def euros(value):
    """12.5 -> '12.50 €'"""
    if value in (None, ""):
        return ""
    return f"{value:,.2f} €".replace(",", "\u202f")
