from django.urls import path

from . import views

app_name = "assemblies"

urlpatterns = [
    path("", views.AssemblyListView.as_view(), name="list"),
    path("new/", views.assembly_create, name="create"),
    path("<int:pk>/", views.assembly_detail, name="detail"),
    path("<int:pk>/edit/", views.assembly_edit, name="edit"),
    path("<int:pk>/convene/", views.convene, name="convene"),
    path("<int:pk>/open/", views.open_assembly, name="open"),
    path("<int:pk>/close/", views.close_assembly, name="close"),
    path("<int:pk>/proxies/new/", views.proxy_add, name="proxy_add"),
    path("<int:pk>/proxies/<int:giver_id>/revoke/", views.proxy_revoke, name="proxy_revoke"),
    path("<int:pk>/resolutions/new/", views.resolution_add, name="resolution_add"),
    path("<int:pk>/resolutions/<int:rid>/tally/", views.resolution_tally, name="resolution_tally"),
    path("<int:pk>/resolutions/<int:rid>/open/", views.resolution_open, name="resolution_open"),
    path("<int:pk>/resolutions/<int:rid>/close/", views.resolution_close, name="resolution_close"),
    path("<int:pk>/voters/", views.VoterListView.as_view(), name="voters"),
    path("<int:pk>/desk/", views.desk, name="desk"),
    path("<int:pk>/screen/", views.screen, name="screen"),
    path("<int:pk>/sign-in.pdf", views.sign_in_sheet, name="sign_in_pdf"),
    path("<int:pk>/minutes.pdf", views.minutes, name="minutes_pdf"),
    path("<int:pk>/proxy/", views.proxy, name="proxy"),
    path("<int:pk>/vote/", views.vote, name="vote"),
]
