"""GET /api/v1/figures/: the open figures, for anyone (no sign-in)."""
import datetime

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, permissions
from rest_framework.response import Response
from rest_framework.views import APIView

from coopmarket.dates import coop_today

from . import presenting, services


def snapshot_data(as_of: datetime.date | None = None) -> dict:
    """The latest stored snapshot (or that of `as_of`); before the first daily run, today's figures
    computed on the fly (not stored: a GET writes nothing)."""
    snapshot = services.latest(as_of=as_of)
    if snapshot is not None:
        return {**snapshot.data, "computed_at": snapshot.computed_at.isoformat()}
    if as_of is not None:
        raise exceptions.NotFound("No figures for this date.")
    return {**services.figures_compute(as_of=coop_today()), "computed_at": timezone.now().isoformat()}


class FiguresView(APIView):
    authentication_classes = []  # public: a stale token in a browser must not turn this into a 401
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        parameters=[OpenApiParameter("as_of", datetime.date, description="A past day's figures (default: the latest).")],
        responses={200: dict},
        description="The coop's open figures (DOMAIN.md §11): members, share capital, person-hours worked and local "
        "sourcing per month, local suppliers. A figure drawn from fewer than `minimum_people` people is null, with a note.",
    )
    def get(self, request):
        raw = request.query_params.get("as_of")
        as_of = None
        if raw:
            try:
                as_of = datetime.date.fromisoformat(raw)
            except ValueError:
                raise exceptions.ValidationError({"as_of": ["Expected a date YYYY-MM-DD."]}) from None
        data = snapshot_data(as_of)
        return Response({**data, "notes": presenting.notes_in_words(data)})
