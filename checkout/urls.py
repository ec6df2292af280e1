from django.urls import path

from . import views

app_name = "checkout"

urlpatterns = [
    path("", views.till, name="till"),
    path("sw.js", views.service_worker, name="service-worker"),
    path("checks/", views.TillCheckListView.as_view(), name="checks"),
]
