from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _


def max_upload_bytes() -> int:
    return getattr(settings, "COOP_IMPORT_MAX_MB", 100) * 1024 * 1024


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".zip,.xlsx,.csv"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)]


class UploadForm(forms.Form):
    files = MultipleFileField(
        label=_("Files"),
        help_text=_("A .zip of the CSV files, a .xlsx workbook with one sheet per file, or the CSV files themselves."),
    )

    def clean_files(self):
        files = self.cleaned_data["files"]
        limit = max_upload_bytes()
        if sum(f.size for f in files) > limit:
            raise forms.ValidationError(_("At most %(mb)d MB at once.") % {"mb": limit // (1024 * 1024)})
        return files
