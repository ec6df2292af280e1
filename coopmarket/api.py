"""The API router: every app's viewsets under /api/v1/ (CONTRACT.md §5)."""
from django.urls import include, path
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.routers import DefaultRouter

from assemblies.api import AssemblyViewSet
from figures.api import FiguresView
from interchange.api import ImportView
from inventory.api import ProductViewSet, SupplierViewSet
from members.api import ShareClassViewSet
from shifts.api import QualificationViewSet, ShiftTemplateViewSet, ShiftViewSet, WorkingMemberViewSet

router = DefaultRouter(trailing_slash=True)
router.register("members", WorkingMemberViewSet, basename="member")
router.register("share-classes", ShareClassViewSet, basename="share-class")
router.register("suppliers", SupplierViewSet, basename="supplier")
router.register("products", ProductViewSet, basename="product")
router.register("shift-templates", ShiftTemplateViewSet, basename="shift-template")
router.register("shifts", ShiftViewSet, basename="shift")
router.register("qualifications", QualificationViewSet, basename="qualification")
router.register("assemblies", AssemblyViewSet, basename="assembly")


class TokenView(ObtainAuthToken):
    """POST {"username", "password"} -> {"token"}."""

    renderer_classes = ObtainAuthToken.renderer_classes


urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="api-token"),
    path("imports/", ImportView.as_view(), name="imports"),
    path("figures/", FiguresView.as_view(), name="figures"),
    path("", include("checkout.api_urls")),
    path("", include(router.urls)),
]
