"""The office page /members/import/ (CONTRACT.md §7): upload, dry-run report, confirm.

The upload is checked at once (a dry run) and kept server-side under a random token with its
report; the confirmation imports exactly those bytes, once. Views parse, call one service, render.
"""
from __future__ import annotations

import datetime
import hashlib

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView
from django_tables2 import SingleTableMixin

from coopmarket.dates import coop_today
from coopmarket.roles import CoordinatorRequiredMixin
from coopmarket.tables import SafeExportMixin
from members.models import Member
from members.views import coordinator_required

from . import export, sample
from .forms import UploadForm
from .models import ImportUpload
from .reader import SourceError, read_upload, read_uploads
from .report import Report
from .services import coop_import
from .tables import ProblemTable

ABANDONED_AFTER = datetime.timedelta(days=1)


def clock_today() -> datetime.date:
    return coop_today()


def _forget_abandoned() -> None:
    """Uploads never confirmed hold personal data: their content goes after a day."""
    ImportUpload.objects.filter(imported_at__isnull=True, uploaded_at__lt=timezone.now() - ABANDONED_AFTER).exclude(content=b"").update(content=b"")


@coordinator_required
def upload(request):
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        files = [(f.name, f.read()) for f in form.cleaned_data["files"]]
        try:
            source = read_uploads(files)
        except SourceError as exc:
            form.add_error("files", str(exc))
        else:
            if len(files) == 1:
                filename, content = files[0]
            else:  # several CSV files: kept together as one archive
                filename = "files.zip"
                content = _zip(files)
            today = clock_today()
            report = coop_import(source=source, today=today, dry_run=True, by=request.user)
            _forget_abandoned()
            batch = ImportUpload.objects.create(
                filename=filename.replace("\x00", "")[:255], content=content, sha256=hashlib.sha256(content).hexdigest(), size=len(content),
                uploaded_by=request.user, checked_on=today, report=report.as_dict(),
            )
            return redirect("interchange:report", token=batch.token)
    recent = ImportUpload.objects.filter(imported_at__isnull=False).select_related("uploaded_by")[:10]
    return render(request, "interchange/upload.html", {"form": form, "recent": recent})


def _zip(files: list[tuple[str, bytes]]) -> bytes:
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in files:
            archive.writestr(name.rsplit("/", 1)[-1], content)
    return out.getvalue()


def _upload_of(request, token: str) -> ImportUpload:
    """An upload, only for the coordinator who made it (or a superuser): tokens are not shared."""
    batch = ImportUpload.objects.filter(token=token).first()
    if batch is None or not (request.user.is_superuser or batch.uploaded_by_id == request.user.pk):
        raise Http404
    return batch


class ReportView(CoordinatorRequiredMixin, SafeExportMixin, SingleTableMixin, TemplateView):
    """The report of a check (or of the import): every problem in a table, CSV export."""

    template_name = "interchange/report.html"
    table_class = ProblemTable
    table_pagination = {"per_page": 100}
    export_name = "import-problems"

    def get(self, request, *args, **kwargs):
        self.batch = _upload_of(request, kwargs["token"])
        self.report = Report.from_dict(self.batch.imported_report or self.batch.report)
        return super().get(request, *args, **kwargs)

    def get_table_data(self):
        level = self.request.GET.get("level")
        return [p.as_dict() for p in self.report.problems() if level in (None, "", p.level)]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        statuses = dict(Member.Status.choices)
        context.update(batch=self.batch, report=self.report, level=self.request.GET.get("level", ""),
                       created=self.report.labelled(self.report.created), changed=self.report.labelled(self.report.changed),
                       statuses=[(statuses.get(k, k), n) for k, n in sorted(self.report.statuses.items())],
                       can_confirm=self.report.ok and self.batch.imported_at is None and bool(self.batch.content))
        return context


@require_POST
@coordinator_required
def confirm(request, token):
    """Import the checked upload, once. The check is run again on today's database: if something
    changed meanwhile and an error appears, nothing is imported and the report says why."""
    with transaction.atomic():
        batch = ImportUpload.objects.select_for_update().filter(pk=_upload_of(request, token).pk).first()
        if batch.imported_at is not None:
            messages.info(request, _("These files were already imported."))
            return redirect("interchange:report", token=token)
        if not batch.content or not Report.from_dict(batch.report).ok:
            messages.error(request, _("These files cannot be imported: upload them again."))
            return redirect("interchange:upload")
        try:
            source = read_upload(bytes(batch.content), batch.filename)
        except SourceError as exc:  # pragma: no cover - it was read once already
            messages.error(request, str(exc))
            return redirect("interchange:upload")
        report = coop_import(source=source, today=clock_today(), by=request.user)
        if report.ok:
            batch.imported_at = timezone.now()
            batch.imported_report = report.as_dict()
            batch.content = b""
            batch.save(update_fields=["imported_at", "imported_report", "content"])
            messages.success(request, _("Imported: %(summary)s.") % {"summary": report.summary})
        else:
            batch.report = report.as_dict()
            batch.save(update_fields=["report"])
            messages.error(request, _("The database changed since the check: nothing was imported. See the problems below."))
    return redirect(reverse("interchange:report", kwargs={"token": token}))


@coordinator_required
def example(request, kind: str):
    """A small example coop in the interchange format, to start from."""
    tables = sample.as_tables(sample.generate(12, today=clock_today(), seed=7))
    slot = tables["members.csv"][0].index("slot_template")
    used = {row[slot] for row in tables["members.csv"][1:]}
    tables["templates.csv"] = tables["templates.csv"][:1] + [row for row in tables["templates.csv"][1:] if row[0] in used]
    if kind == "xlsx":
        content, mime = export.xlsx_bytes(tables), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        content, mime = export.zip_bytes(tables), "application/zip"
    response = HttpResponse(content, content_type=mime)
    response["Content-Disposition"] = f'attachment; filename="coop-example.{kind}"'
    return response
