"""Project-level pages: the dashboard by role, sign-out, and JSON error pages for API clients."""
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LogoutView
from django.db.models import Count
from django.http import JsonResponse
from django.shortcuts import render
from django.views.defaults import page_not_found, server_error

from members.models import Member

from . import roles


@login_required
def home(request):
    context = {}
    if roles.is_coordinator(request.user):
        counts = dict(Member.objects.values_list("membership").annotate(n=Count("id")))
        context["membership_counts"] = [
            (value, label, counts.get(value, 0)) for value, label in Member.Membership.choices
        ]
        # Every member, like the members table each line links to (?status=...).
        status_counts = dict(Member.objects.values_list("status").annotate(n=Count("id")))
        context["status_counts"] = [
            (value, label, status_counts.get(value, 0)) for value, label in Member.Status.choices if status_counts.get(value)
        ]
    context["own_member"] = Member.objects.filter(user=request.user).first()
    return render(request, "home.html", context)


class SignOutView(LogoutView):
    """Django's logout, telling the browser to wipe what the site stored on the device: the
    till's offline card list (localStorage) and the service worker's caches (DOMAIN.md §6).
    static/coopmarket/site.js does the same for browsers that ignore Clear-Site-Data."""

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        response["Clear-Site-Data"] = '"cache", "storage"'
        return response


def handler404(request, exception=None):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found.", "code": "not_found"}, status=404)
    return page_not_found(request, exception)


def handler500(request):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Internal server error.", "code": "server_error"}, status=500)
    return server_error(request)
