"""The coordination team's shift pages, under /shifts/ (CONTRACT.md §6)."""
from django.urls import path

from . import views_office

app_name = "shifts"

urlpatterns = [
    path("", views_office.calendar, name="calendar"),
    path("dashboard/", views_office.dashboard, name="dashboard"),
    path("debt/", views_office.DebtListView.as_view(), name="debt"),
    path("<int:pk>/", views_office.shift_detail, name="detail"),
    path("<int:pk>/sheet.pdf", views_office.shift_sheet, name="sheet"),
    path("members/<int:pk>/timeline/", views_office.member_timeline, name="timeline"),
    path("members/<int:pk>/shift-type/", views_office.member_shift_type, name="shift_type"),
]
