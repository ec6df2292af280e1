"""API plumbing shared by every app: pagination, error format, role permissions."""
import logging

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, pagination, permissions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from . import roles
from .errors import RuleViolation

logger = logging.getLogger(__name__)


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"]["maximum"] = self.max_page_size
        return parameters


def query_params(serializer_class, request) -> dict:
    """A list's query parameters, validated by `serializer_class` (400 on bad input), as a dict of
    the given ones. The same serializer describes them in the schema (`parameters=[...]`)."""
    query = serializer_class(data=request.query_params)
    query.is_valid(raise_exception=True)
    return {name: value for name, value in query.validated_data.items() if value not in (None, "")}


class Conflict(exceptions.APIException):
    """409: a coop rule forbids the request. `code` is one of CONTRACT.md §5's codes."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "A rule of the coop forbids this."
    default_code = "not_allowed"


def exception_handler(exc, context):
    """Errors as JSON `{"detail", "code"}` (field errors as DRF gives them); never a 500 page."""
    extra = {}
    if isinstance(exc, RuleViolation):
        extra = exc.extra
        exc = Conflict(detail=exc.message, code=exc.code)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        )
    response = drf_exception_handler(exc, context)
    if response is None:
        logger.exception("Unhandled API error", exc_info=exc)
        return Response(
            {"detail": "Internal server error.", "code": "server_error"},
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    data = response.data
    if isinstance(data, dict) and "detail" in data and "code" not in data:
        detail = data["detail"]
        data["code"] = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
    if extra and isinstance(data, dict):
        data.update(extra)
    return response


class IsCoordinator(permissions.BasePermission):
    def has_permission(self, request, view):
        return roles.is_coordinator(request.user)


class IsSupply(permissions.BasePermission):
    def has_permission(self, request, view):
        return roles.is_supply(request.user)


def json_error_view(status_code: int, detail: str, code: str):
    def view(request, exception=None):
        return JsonResponse({"detail": detail, "code": code}, status=status_code)

    return view


def is_api_request(request) -> bool:
    return request.path.startswith("/api/")


__all__ = ["Conflict", "Http404", "PermissionDenied"]

