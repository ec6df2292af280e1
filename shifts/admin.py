"""Admin for the shift engine. Every write goes through `shifts.services`; ledgers are read-only.

A service that refuses (ValidationError, RuleViolation) shows its message as a form error on the
page the coordinator submitted, never as a 500: `ServiceAdmin.changeform_view` rolls the attempt
back and renders the same form again with the service's errors attached.
"""
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from coopmarket.errors import RuleViolation
from members.admin import MemberAdmin
from members.models import Member

from . import services
from .forms import ShiftTypeForm
from .models import (
    CounterEvent,
    CycleStartProcessed,
    Exemption,
    Extension,
    JobRun,
    Leave,
    Registration,
    Shift,
    ShiftTemplate,
    SlotAssignment,
    StatusChange,
)

SERVICE_ERRORS = (ValidationError, RuleViolation)


def _attach_errors(form, error) -> None:
    """Put a service's error on the form: on the field it names when the form has it, else on top."""
    if isinstance(error, RuleViolation):
        form.add_error(None, error.message)
        return
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return
    form.add_error(None, error.messages)


def _copy_saved(target, saved) -> None:
    """Give the admin's unsaved instance the row a service created (pk and computed fields)."""
    for field in type(saved)._meta.concrete_fields:
        setattr(target, field.attname, getattr(saved, field.attname))
    target._state.adding = False
    target._state.db = saved._state.db


class NoBulkDeleteMixin:
    """Ledger-like rows are never deleted, one by one or in bulk (without the delete permission,
    the admin drops its `delete_selected` action too)."""

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(NoBulkDeleteMixin, admin.ModelAdmin):
    """Ledgers and logs: visible, never added, edited or deleted here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ServiceAdmin(NoBulkDeleteMixin, admin.ModelAdmin):
    """An admin whose `save_model` calls a service; a refusal becomes a form error."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            # Django runs the view in a transaction: a refusal rolls the whole attempt back.
            return super().changeform_view(request, object_id, form_url, extra_context)
        except SERVICE_ERRORS as error:
            if request.method != "POST" or getattr(request, "_service_error", None) is not None:
                raise
            request._service_error = error
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change, **kwargs)
        error = getattr(request, "_service_error", None)
        if error is None:
            return form_class

        class ServiceErrorForm(form_class):
            def clean(self):
                cleaned = super().clean()
                _attach_errors(self, error)
                return cleaned

        return ServiceErrorForm

    @staticmethod
    def clock():
        return timezone.localdate(), timezone.now()


# --- templates and regular slots ---------------------------------------------------------------

class CurrentSlotHoldersInline(admin.TabularInline):
    model = SlotAssignment
    verbose_name = _("current slot holder")
    verbose_name_plural = _("current slot holders")
    fields = ["member", "start_date", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).filter(end_date__isnull=True).select_related("member")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


TEMPLATE_FIELDS = ["name", "week", "weekday", "start_time", "end_time", "capacity", "required_skill", "leader", "active"]


@admin.register(ShiftTemplate)
class ShiftTemplateAdmin(ServiceAdmin):
    list_display = ["name", "week", "weekday", "start_time", "end_time", "capacity", "slot_holders", "active"]
    list_filter = ["week", "weekday", "active"]
    search_fields = ["name"]
    fields = TEMPLATE_FIELDS
    autocomplete_fields = ["leader"]
    inlines = [CurrentSlotHoldersInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            slot_holders_count=Count("slots", filter=Q(slots__end_date__isnull=True))
        )

    @admin.display(description=_("slot holders"), ordering="slot_holders_count")
    def slot_holders(self, obj):
        return obj.slot_holders_count

    def save_model(self, request, obj, form, change):
        _today, now = self.clock()
        if not change:
            template = services.template_create(
                name=obj.name, week=obj.week, weekday=obj.weekday, start_time=obj.start_time, end_time=obj.end_time,
                capacity=obj.capacity, required_skill=obj.required_skill, leader=obj.leader,
            )
            if not obj.active:
                template = services.template_update(template=template, now=now, active=False)
            _copy_saved(obj, template)
            return
        changed = {name: form.cleaned_data[name] for name in form.changed_data if name in TEMPLATE_FIELDS}
        if changed:
            _copy_saved(obj, services.template_update(template=obj, now=now, **changed))


@admin.register(SlotAssignment)
class SlotAssignmentAdmin(ServiceAdmin):
    list_display = ["member", "template", "start_date", "end_date", "end_reason"]
    list_filter = ["template__week", "template__weekday", ("end_date", admin.EmptyFieldListFilter), "end_reason"]
    search_fields = ["member__last_name", "member__first_name", "member__member_number", "template__name"]
    list_select_related = ["member", "template"]
    autocomplete_fields = ["member", "template"]
    fields = ["member", "template", "start_date"]
    actions = ["end_slots"]

    def has_change_permission(self, request, obj=None):
        return False  # a slot changes by ending it (the action) and assigning another

    def save_model(self, request, obj, form, change):
        today, _now = self.clock()
        slot = services.slot_assign(
            template=obj.template, member=obj.member, start_date=obj.start_date, today=today, by=request.user
        )
        _copy_saved(obj, slot)

    @admin.action(description=_("End the selected regular slots today"), permissions=["add"])
    def end_slots(self, request, queryset):
        today, _now = self.clock()
        ended = 0
        for slot in queryset.filter(end_date__isnull=True).select_related("member", "template"):
            try:
                services.slot_remove(template=slot.template, member=slot.member, today=today, by=request.user)
                ended += 1
            except SERVICE_ERRORS as error:
                messages.error(request, f"{slot}: {' '.join(getattr(error, 'messages', [str(error)]))}")
        if ended:
            messages.success(request, _("%(n)d regular slot(s) ended.") % {"n": ended})


# --- shifts and registrations ------------------------------------------------------------------

class RegistrationInline(admin.TabularInline):
    model = Registration
    fields = ["member", "kind", "attendance", "attendance_at", "offered_at", "cancelled_at", "cancel_reason"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("member")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Shift)
class ShiftAdmin(ReadOnlyAdmin):
    """Shifts come from their templates (generate_shifts); a template change moves its future shifts."""

    list_display = ["name", "date", "start", "end", "week", "capacity", "seats_taken", "cancelled", "closed_at"]
    list_filter = ["date", "week", "cancelled"]
    search_fields = ["name"]
    date_hierarchy = "date"
    list_select_related = ["template"]
    inlines = [RegistrationInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            seats_taken_count=Count("registrations", filter=Q(registrations__cancelled_at__isnull=True))
        )

    @admin.display(description=_("seats taken"), ordering="seats_taken_count")
    def seats_taken(self, obj):
        return obj.seats_taken_count


@admin.register(Registration)
class RegistrationAdmin(ReadOnlyAdmin):
    list_display = ["shift", "member", "kind", "attendance", "offered_at", "cancelled_at", "cancel_reason"]
    list_filter = ["kind", "attendance", ("cancelled_at", admin.EmptyFieldListFilter), "cancel_reason", "shift__week"]
    search_fields = ["member__last_name", "member__first_name", "member__member_number", "shift__name"]
    date_hierarchy = "shift__date"
    list_select_related = ["shift", "member"]


# --- the counter ledger and the status history -------------------------------------------------

@admin.register(CounterEvent)
class CounterEventAdmin(ReadOnlyAdmin):
    list_display = ["date", "member", "kind", "standard_points", "ftop_points", "shift", "revision", "reason", "author"]
    list_filter = ["kind", "date"]
    search_fields = ["member__last_name", "member__first_name", "member__member_number", "reason"]
    date_hierarchy = "date"
    list_select_related = ["member", "shift", "author"]


@admin.register(StatusChange)
class StatusChangeAdmin(ReadOnlyAdmin):
    list_display = ["effective_date", "member", "from_status", "to_status", "cause", "written_at"]
    list_filter = ["to_status", "from_status", "effective_date"]
    search_fields = ["member__last_name", "member__first_name", "member__member_number", "cause"]
    date_hierarchy = "effective_date"
    list_select_related = ["member"]


@admin.register(JobRun)
class JobRunAdmin(ReadOnlyAdmin):
    list_display = ["name", "last_date", "updated_at"]


@admin.register(CycleStartProcessed)
class CycleStartProcessedAdmin(ReadOnlyAdmin):
    list_display = ["cycle_start", "charges", "processed_at"]


# --- decisions: leaves, exemptions, extensions -------------------------------------------------

class PeriodAdmin(ServiceAdmin):
    """Leaves and exemptions: created by their service; afterwards only `end` changes, to end early."""

    list_display = ["member", "start", "end", "reason", "created_by", "created_at"]
    list_filter = ["start", "end"]
    search_fields = ["member__last_name", "member__first_name", "member__member_number", "reason"]
    list_select_related = ["member", "created_by"]
    autocomplete_fields = ["member"]
    fields = ["member", "start", "end", "reason"]

    def create(self, *, request, obj, today, now):
        raise NotImplementedError

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["member", "start", "reason", "created_by", "created_at"]

    def get_fields(self, request, obj=None):
        return self.fields if obj is None else ["member", "start", "end", "reason", "created_by", "created_at"]

    def save_model(self, request, obj, form, change):
        today, now = self.clock()
        if not change:
            _copy_saved(obj, self.create(request=request, obj=obj, today=today, now=now))
            return
        if "end" not in form.changed_data:
            return
        if obj.end is None:
            raise ValidationError({"end": [_("Give the new end date (ending early only).")]})
        _copy_saved(obj, services.period_end_early(period=obj, end=obj.end, today=today, by=request.user))


@admin.register(Leave)
class LeaveAdmin(PeriodAdmin):
    def create(self, *, request, obj, today, now):
        return services.leave_create(
            member=obj.member, start=obj.start, end=obj.end, reason=obj.reason, today=today, now=now, by=request.user
        )


@admin.register(Exemption)
class ExemptionAdmin(PeriodAdmin):
    def create(self, *, request, obj, today, now):
        return services.exemption_create(
            member=obj.member, start=obj.start, end=obj.end, reason=obj.reason, today=today, now=now, by=request.user
        )


@admin.register(Extension)
class ExtensionAdmin(ServiceAdmin):
    """Granted through `extension_grant` (dates computed from the alert deadline); never edited."""

    list_display = ["member", "granted_on", "start", "end", "reason", "author"]
    list_filter = ["granted_on"]
    search_fields = ["member__last_name", "member__first_name", "member__member_number", "reason"]
    list_select_related = ["member", "author"]
    autocomplete_fields = ["member"]

    def get_fields(self, request, obj=None):
        return ["member", "reason"] if obj is None else ["member", "granted_on", "start", "end", "reason", "author", "created_at"]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.get_fields(request, obj)

    def has_change_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        today, _now = self.clock()
        _copy_saved(obj, services.extension_grant(member=obj.member, reason=obj.reason, today=today, by=request.user))


# --- members: the rule-bearing fields change through these actions (DOMAIN.md §8) ---------------

class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=255, required=True)


class OptionalReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=255, required=False)


class SlotForm(forms.Form):
    template = forms.ModelChoiceField(label=_("Regular slot"), queryset=ShiftTemplate.objects.filter(active=True))
    start_date = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
                                 help_text=_("Leave empty for today."))


admin.site.unregister(Member)


@admin.register(Member)
class WorkingMemberAdmin(ServiceAdmin, MemberAdmin):
    """The members admin with the shift engine's actions: block, unblock, switch the shift type,
    assign a regular slot. Each calls its service, member by member; a refusal is reported."""

    actions = ["block_members", "unblock_members", "switch_shift_type", "assign_slot"]

    def _form_action(self, request, queryset, *, form_class, title, apply):
        if "apply" in request.POST:
            form = form_class(request.POST)
            if form.is_valid():
                today, _now = self.clock()
                done = 0
                for member in queryset:
                    try:
                        with transaction.atomic():
                            apply(member, form.cleaned_data, today, request.user)
                        done += 1
                    except SERVICE_ERRORS as error:
                        messages.error(request, f"{member}: {' '.join(getattr(error, 'messages', [str(error)]))}")
                if done:
                    messages.success(request, _("%(title)s: %(n)d member(s).") % {"title": title, "n": done})
                return None
        else:
            form = form_class()
        return TemplateResponse(request, "admin/shifts/member_action.html", {
            **self.admin_site.each_context(request), "opts": self.model._meta, "title": title, "form": form,
            "queryset": queryset, "action": request.POST.get("action", ""),
        })

    @admin.action(description=_("Block (with a reason)"), permissions=["change"])
    def block_members(self, request, queryset):
        return self._form_action(request, queryset, form_class=ReasonForm, title=_("Block"), apply=lambda m, data, today, by:
                                 services.member_block(member=m, reason=data["reason"], today=today, by=by))

    @admin.action(description=_("Unblock"), permissions=["change"])
    def unblock_members(self, request, queryset):
        return self._form_action(request, queryset, form_class=OptionalReasonForm, title=_("Unblock"), apply=lambda m, data, today, by:
                                 services.member_unblock(member=m, reason=data["reason"], today=today, by=by))

    @admin.action(description=_("Switch the shift type"), permissions=["change"])
    def switch_shift_type(self, request, queryset):
        return self._form_action(request, queryset, form_class=ShiftTypeForm, title=_("Switch the shift type"), apply=lambda m, data, today, by:
                                 services.shift_type_switch(member=m, shift_type=data["shift_type"], template=data["template"],
                                                            start_date=data["start_date"], today=today, by=by))

    @admin.action(description=_("Assign a regular slot"), permissions=["change"])
    def assign_slot(self, request, queryset):
        return self._form_action(request, queryset, form_class=SlotForm, title=_("Assign a regular slot"), apply=lambda m, data, today, by:
                                 services.slot_assign(template=data["template"], member=m, start_date=data["start_date"] or today,
                                                      today=today, by=by))
