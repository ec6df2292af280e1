"""Table helpers shared by every list page."""
from django_tables2.export import ExportMixin, TableExport
from tablib import Dataset

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value):
    """Neutralise text a spreadsheet would run as a formula (CSV injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


class SafeTableExport(TableExport):
    def table_to_dataset(self, table, exclude_columns, dataset_kwargs):
        dataset = Dataset(**(dataset_kwargs or {}))
        for i, row in enumerate(table.as_values(exclude_columns=exclude_columns)):
            if i == 0:
                dataset.headers = row
            else:
                dataset.append([spreadsheet_safe(value) for value in row])
        return dataset


class SafeExportMixin(ExportMixin):
    """django-tables2 CSV export (`?_export=csv`), keeping the page's filters, formula-safe."""

    export_formats = ("csv",)
    export_class = SafeTableExport
