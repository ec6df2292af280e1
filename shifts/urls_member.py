"""The cooperator's own pages under /me/ (namespace `me`), and the calendar feed.

`/me/` itself is served here (the members app's page plus the shift standing); the members app's
other /me/ documents (certificate, card, personal data) are kept as they are.
"""
from django.urls import path

from members.urls import me_urlpatterns as members_me_urlpatterns

from . import views_member as views

urlpatterns = [
    path("", views.me, name="page"),
    path("shifts/", views.my_shifts, name="shifts"),
    path("shifts/<int:shift_id>/book/", views.book, name="book"),
    path("shifts/<int:shift_id>/cancel/", views.cancel, name="cancel"),
    path("shifts/<int:shift_id>/offer/", views.offer, name="offer"),
    path("shifts/<int:shift_id>/withdraw/", views.withdraw, name="withdraw"),
    path("shifts/<int:shift_id>/take/", views.take, name="take"),
    path("shifts.ics", views.calendar_redirect, name="calendar"),
    path("calendar/reset/", views.calendar_reset, name="calendar_reset"),
    path("notifications/", views.preferences_update, name="notifications"),
    *members_me_urlpatterns,
]

# Top level (no login): /calendar/<token>.ics
feed_urlpatterns = [
    path("calendar/<slug:token>.ics", views.calendar_feed, name="calendar_feed"),
]
