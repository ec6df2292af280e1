from django.urls import path

from . import views

app_name = "figures"

urlpatterns = [
    path("", views.figures_page, name="page"),
    path("figures.csv", views.figures_csv, name="csv"),
]
