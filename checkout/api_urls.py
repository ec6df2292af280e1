from django.urls import path

from . import api

urlpatterns = [
    path("ping/", api.PingView.as_view(), name="ping"),
    path("checkout/", api.SearchView.as_view(), name="checkout-search"),
    path("checkout/cards/", api.CardsView.as_view(), name="checkout-cards"),
    path("checkout/log/", api.OfflineLogView.as_view(), name="checkout-offline-log"),
    path("checkout/<str:code>/", api.EligibilityView.as_view(), name="checkout-eligibility"),
    path("checkout/<str:code>/override/", api.OverrideView.as_view(), name="checkout-override"),
]
