"""Admin for assemblies: the parameters row, and the assemblies read-only with actions that call
the services (convene, freeze the list, close). Assemblies are created, proxies given and votes
run from the assembly pages (/assemblies/), which go through the same services; the ballot box
and the voted marks are not shown here at all."""
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from coopmarket.dates import coop_today
from coopmarket.errors import RuleViolation

from . import services
from .models import Assembly, AssemblyMail, AssemblyParameters, Proxy, Resolution, Voter


@admin.register(AssemblyParameters)
class AssemblyParametersAdmin(admin.ModelAdmin):
    list_display = ["__str__", "cutoff_days", "notice_days_first", "notice_days_second", "max_proxies",
                    "vote_requires_good_standing"]

    def has_add_permission(self, request):
        return not AssemblyParameters.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnly:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ResolutionInline(ReadOnly, admin.TabularInline):
    model = Resolution
    fields = ["position", "text", "majority", "state", "source", "votes_for", "votes_against", "votes_abstain"]
    readonly_fields = fields
    extra = 0


class ProxyInline(ReadOnly, admin.TabularInline):
    model = Proxy
    fields = ["giver", "holder", "created_at", "revoked_at", "voided_at", "void_reason"]
    readonly_fields = fields
    extra = 0


def _run(modeladmin, request, queryset, call, done):
    for assembly in queryset:
        try:
            call(assembly)
        except (RuleViolation, ValidationError) as exc:
            modeladmin.message_user(request, f"{assembly}: {exc}", messages.ERROR)
        else:
            modeladmin.message_user(request, f"{assembly}: {done}", messages.SUCCESS)


@admin.register(Assembly)
class AssemblyAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["title", "starts_at", "kind", "convocation", "cutoff", "convened_at", "voters_frozen_at", "opened_at",
                    "closed_at", "page"]
    list_filter = ["kind", "convocation"]
    search_fields = ["title", "place"]
    readonly_fields = ["title", "kind", "convocation", "starts_at", "place", "agenda", "cutoff", "convened_at",
                       "convened_by", "voters_frozen_at", "opened_at", "closed_at", "created_by", "created_at"]
    inlines = [ResolutionInline, ProxyInline]
    actions = ["convene", "freeze", "close"]

    @admin.display(description=_("page"))
    def page(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("assemblies:detail", args=[obj.pk]), _("open"))

    def has_action_permission(self, request):
        return request.user.has_perm("assemblies.change_assembly")

    @admin.action(description=_("Convene: e-mail every voter"), permissions=["action"])
    def convene(self, request, queryset):
        _run(self, request, queryset, lambda a: services.assembly_convene(
            assembly=a, today=coop_today(), now=timezone.now(), by=request.user), _("convening e-mails queued"))

    @admin.action(description=_("Freeze the voter list (cut-off reached)"), permissions=["action"])
    def freeze(self, request, queryset):
        _run(self, request, queryset, lambda a: services.voters_freeze(assembly=a, today=coop_today(), now=timezone.now()),
             _("voter list frozen"))

    @admin.action(description=_("Close the assembly"), permissions=["action"])
    def close(self, request, queryset):
        _run(self, request, queryset, lambda a: services.assembly_close(assembly=a, now=timezone.now(), by=request.user),
             _("closed"))


@admin.register(Voter)
class VoterAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["assembly", "member", "present_at", "signed_in_by"]
    list_filter = ["assembly"]
    search_fields = ["member__last_name", "member__first_name", "member__member_number"]
    list_select_related = ["assembly", "member", "signed_in_by"]


@admin.register(Proxy)
class ProxyAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["assembly", "giver", "holder", "created_at", "revoked_at", "voided_at", "void_reason"]
    list_filter = ["assembly", "void_reason"]
    list_select_related = ["assembly", "giver", "holder"]


@admin.register(AssemblyMail)
class AssemblyMailAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["assembly", "member", "kind", "sent_at"]
    list_filter = ["kind", "assembly"]
    list_select_related = ["assembly", "member"]
