from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from members.forms import MemberPasswordResetForm
from members.webhooks import stripe_webhook
from shifts import urls_member

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "accounts/password_reset/",
        auth_views.PasswordResetView.as_view(form_class=MemberPasswordResetForm),
        name="password_reset",
    ),
    path("accounts/logout/", views.SignOutView.as_view(), name="logout"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("members/import/", include("interchange.urls")),
    path("members/", include("members.urls")),
    # /me/ with the shift standing and the cooperator's shift pages (the members app's /me/
    # documents included), and the secret calendar feed /calendar/<token>.ics.
    path("me/", include((urls_member.urlpatterns, "me"))),
    path("", include(urls_member.feed_urlpatterns)),
    path("shifts/", include("shifts.urls")),
    path("inventory/", include("inventory.urls")),
    path("till/", include("checkout.urls")),
    path("assemblies/", include("assemblies.urls")),
    path("figures/", include("figures.urls")),
    path("api/v1/", include("coopmarket.api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("stripe/webhook/", stripe_webhook, name="stripe-webhook"),
    path("admin/", admin.site.urls),
]

handler404 = "coopmarket.views.handler404"
handler500 = "coopmarket.views.handler500"
