from django.urls import path

from . import views

app_name = "assemblies"

urlpatterns = [
    path("<int:pk>/proxy/", views.proxy, name="proxy"),
]
