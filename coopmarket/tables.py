"""Table helpers shared by every list page."""
import inspect
import weakref

import django_tables2 as tables
from django.db import models
from django.template.defaultfilters import date as date_filter
from django.utils.timezone import template_localtime
from django_tables2 import utils as tables2_utils
from django_tables2.columns import library
from django_tables2.export import ExportMixin, TableExport
from tablib import Dataset

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value):
    """Neutralise text a spreadsheet would run as a formula (CSV injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _choice_fields(table) -> set[str]:
    model = getattr(getattr(table, "_meta", None), "model", None)
    if model is None:
        return set()
    return {f.name for f in model._meta.get_fields() if isinstance(f, models.Field) and f.choices}


class SafeTableExport(TableExport):
    """CSV of every row of the filtered, ordered queryset, formula-safe.

    Reads each cell with its accessor (choice fields as their label, a table's `value_<column>`
    method when it has one) instead of django-tables2's per-cell rendering machinery, which is
    about ten times slower on large exports.
    """

    def table_to_dataset(self, table, exclude_columns, dataset_kwargs):
        exclude_columns = set(exclude_columns or ())
        columns = [
            bound for bound in table.columns.iterall()
            if not bound.column.exclude_from_export and bound.name not in exclude_columns
        ]
        choices = _choice_fields(table)
        converters = []
        for bound in columns:
            custom = getattr(table, f"value_{bound.name}", None)
            display = f"get_{bound.accessor}_display" if str(bound.accessor) in choices else None
            converters.append((bound.accessor, custom, display))
        dataset = Dataset(**(dataset_kwargs or {}))
        dataset.headers = [str(bound.header) for bound in columns]
        for record in table.data:
            row = []
            for accessor, custom, display in converters:
                value = getattr(record, display)() if display else accessor.resolve(record, quiet=True)
                if custom is not None:
                    value = custom(value=value, record=record)
                elif isinstance(value, models.Model):
                    value = str(value)
                row.append(spreadsheet_safe("" if value is None else value))
            dataset.append(row)
        return dataset


class SafeExportMixin(ExportMixin):
    """django-tables2 CSV export (`?_export=csv`), keeping the page's filters, formula-safe."""

    export_formats = ("csv",)
    export_class = SafeTableExport


# --- cheaper cells ---------------------------------------------------------------------------
# django-tables2 asks `inspect.signature` which arguments a render or value method takes, for
# every cell (a fifth of a 50-row page's time). A function's signature does not change, so it is
# kept per function (for a bound method, per underlying function: the same for every instance).
_ORIGINAL_SIGNATURE = getattr(tables2_utils.signature, "original", tables2_utils.signature)
_SIGNATURES = {True: weakref.WeakKeyDictionary(), False: weakref.WeakKeyDictionary()}


def cached_signature(fn):
    bound = inspect.ismethod(fn)
    key = fn.__func__ if bound else fn
    store = _SIGNATURES[bound]
    try:
        return store[key]
    except (KeyError, TypeError):  # TypeError: a callable that takes no weak reference
        pass
    found = _ORIGINAL_SIGNATURE(fn)
    try:
        store[key] = found
    except TypeError:
        pass
    return found


cached_signature.original = _ORIGINAL_SIGNATURE


def install_signature_cache() -> None:
    """Called once by CoopmarketConfig.ready(): django-tables2's call_with_appropriate reads
    `utils.signature` at each call."""
    tables2_utils.signature = cached_signature


class _DateText:
    """Renders what django-tables2's `{{ value|date:fmt|default:default }}` writes, without
    compiling that template for every cell (its TemplateColumn does). `formats`: (short, long)."""

    formats = ("SHORT_DATE_FORMAT", "DATE_FORMAT")

    def __init__(self, format=None, short=True, *args, **kwargs):
        self.date_format = format or self.formats[0 if short else 1]
        super().__init__(format, short, *args, **kwargs)

    def render(self, value, bound_column):
        return date_filter(template_localtime(value), self.date_format) or bound_column.default


class DateColumn(_DateText, tables.DateColumn):
    """django-tables2's DateColumn (same arguments and export), rendered without a template."""

    @classmethod
    def from_field(cls, field, **kwargs):
        if isinstance(field, models.DateField) and not isinstance(field, models.DateTimeField):
            return cls(**kwargs)
        return None


class DateTimeColumn(_DateText, tables.DateTimeColumn):
    """django-tables2's DateTimeColumn (same arguments and export), rendered without a template;
    the time is shown in the current time zone, as the `date` filter does."""

    formats = ("SHORT_DATETIME_FORMAT", "DATETIME_FORMAT")

    @classmethod
    def from_field(cls, field, **kwargs):
        if isinstance(field, models.DateTimeField):
            return cls(**kwargs)
        return None


# Columns made from a model's date fields (a table's Meta.fields) use these too.
library.register(DateColumn)
library.register(DateTimeColumn)
