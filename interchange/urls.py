from django.urls import path

from . import views

app_name = "interchange"

urlpatterns = [
    path("", views.upload, name="upload"),
    path("example.zip", views.example, {"kind": "zip"}, name="example_zip"),
    path("example.xlsx", views.example, {"kind": "xlsx"}, name="example_xlsx"),
    path("<str:token>/", views.ReportView.as_view(), name="report"),
    path("<str:token>/confirm/", views.confirm, name="confirm"),
]
