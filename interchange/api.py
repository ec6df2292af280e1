"""POST /api/v1/imports/ (CONTRACT.md §5, §7): coordinators send the zip (or workbook) of the
interchange files; 200 with the report, 400 with every error. Parse, call one service, render."""
from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import parsers, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from coopmarket.api_support import IsCoordinator
from coopmarket.dates import coop_today

from .forms import max_upload_bytes
from .reader import SourceError, read_upload
from .services import coop_import


def clock_today():
    return coop_today()


class ImportRequestSerializer(serializers.Serializer):
    file = serializers.FileField(help_text=gettext_lazy("A .zip of the interchange CSV files (or a .xlsx workbook with the same sheets)."))
    dry_run = serializers.BooleanField(default=False, help_text=gettext_lazy("Check and report; write nothing."))

    def validate_file(self, value):
        if value.size > max_upload_bytes():
            raise serializers.ValidationError(_("At most %(mb)d MB.") % {"mb": max_upload_bytes() // (1024 * 1024)})
        return value


class ProblemSerializer(serializers.Serializer):
    file = serializers.CharField()
    line = serializers.IntegerField(allow_null=True, help_text=gettext_lazy("The file's own line (the header is line 1); null for the whole file."))
    column = serializers.CharField()
    message = serializers.CharField()
    level = serializers.ChoiceField(choices=["error", "warning"])


class ImportReportSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    imported = serializers.BooleanField(help_text=gettext_lazy("True when the files were written (not a dry run, no error)."))
    summary = serializers.CharField(help_text=gettext_lazy('"N created, M changed".'))
    created = serializers.DictField(child=serializers.IntegerField())
    changed = serializers.DictField(child=serializers.IntegerField())
    rows = serializers.DictField(child=serializers.IntegerField(), help_text=gettext_lazy("Data rows read per file."))
    statuses = serializers.DictField(child=serializers.IntegerField(), help_text=gettext_lazy("Working statuses of the members imported."))
    errors = ProblemSerializer(many=True)
    warnings = ProblemSerializer(many=True)


class ImportErrorSerializer(serializers.Serializer):
    """400: every error (the report, when the files could be read)."""

    detail = serializers.CharField()
    code = serializers.CharField()
    errors = ProblemSerializer(many=True)
    warnings = ProblemSerializer(many=True)
    dry_run = serializers.BooleanField(required=False)
    imported = serializers.BooleanField(required=False)
    summary = serializers.CharField(required=False)
    created = serializers.DictField(child=serializers.IntegerField(), required=False)
    changed = serializers.DictField(child=serializers.IntegerField(), required=False)
    rows = serializers.DictField(child=serializers.IntegerField(), required=False)
    statuses = serializers.DictField(child=serializers.IntegerField(), required=False)


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()


def _invalid(detail: str, errors: list[dict] = (), **body) -> Response:
    return Response({"detail": detail, "code": "invalid", "errors": list(errors), "warnings": [], **body},
                    status=status.HTTP_400_BAD_REQUEST)


class ImportView(APIView):
    """Import a coop (or check it with `dry_run`): all or nothing."""

    permission_classes = [IsCoordinator]
    parser_classes = [parsers.MultiPartParser]

    @extend_schema(
        operation_id="imports_create",
        request={"multipart/form-data": ImportRequestSerializer},
        responses={
            200: ImportReportSerializer,
            400: OpenApiResponse(ImportErrorSerializer, description=gettext_lazy("Invalid files: every error, nothing written.")),
            401: OpenApiResponse(DetailSerializer, description=gettext_lazy("Not signed in.")),
            403: OpenApiResponse(DetailSerializer, description=gettext_lazy("Coordinators only.")),
        },
        tags=["imports"],
    )
    def post(self, request):
        serializer = ImportRequestSerializer(data=request.data)
        if not serializer.is_valid():
            errors = [
                {"file": "-", "line": None, "column": name, "message": str(message), "level": "error"}
                for name, messages in serializer.errors.items() for message in messages
            ]
            return _invalid(_("Invalid request: send the zip as `file`."), errors)
        upload = serializer.validated_data["file"]
        try:
            source = read_upload(upload.read(), upload.name or "")
        except SourceError as exc:
            return _invalid(str(exc), [{"file": upload.name or "-", "line": None, "column": "file", "message": str(exc), "level": "error"}])
        report = coop_import(source=source, today=clock_today(), dry_run=serializer.validated_data["dry_run"], by=request.user)
        body = report.as_dict()
        if not report.ok:
            errors = body.pop("errors")
            warnings = body.pop("warnings")
            response = _invalid(_("%(n)d error(s): nothing imported.") % {"n": len(errors)}, errors, **body)
            response.data["warnings"] = warnings
            return response
        return Response(body)
