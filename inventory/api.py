"""Inventory API (CONTRACT.md §5), for the supply group only. Views parse, call a service, render."""
from django.db.models import Q
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from coopmarket.api_support import IsSupply, query_params

from . import selectors, services
from .models import InventoryParameters, Product
from .serializers import (
    ProductCreateSerializer,
    ProductListQuerySerializer,
    ProductSerializer,
    StockMoveCreateSerializer,
    StockMoveSerializer,
    SupplierCreateSerializer,
    SupplierListQuerySerializer,
    SupplierSerializer,
)


def local_today():
    return timezone.localdate()


@extend_schema_view(list=extend_schema(parameters=[SupplierListQuerySerializer]))
class SupplierViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = SupplierSerializer
    permission_classes = [IsSupply]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        qs = selectors.suppliers().order_by("name", "id")
        if self.action != "list":
            return qs
        params = query_params(SupplierListQuerySerializer, self.request)
        if params.get("search"):
            qs = qs.filter(name__icontains=params["search"])
        if params.get("local"):
            qs = qs.filter(is_local=True)
        return qs

    @extend_schema(request=SupplierCreateSerializer, responses={201: SupplierSerializer})
    def create(self, request):
        data = SupplierCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        supplier = services.supplier_create(by=request.user, **data.validated_data)
        supplier = selectors.suppliers().get(pk=supplier.pk)
        return Response(SupplierSerializer(supplier).data, status=status.HTTP_201_CREATED)


@extend_schema_view(list=extend_schema(parameters=[ProductListQuerySerializer]))
class ProductViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = ProductSerializer
    permission_classes = [IsSupply]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        qs = selectors.products_with_stock(InventoryParameters.current()).order_by("name", "id")
        if self.action != "list":
            return qs
        params = query_params(ProductListQuerySerializer, self.request)
        if params.get("search"):
            term = params["search"].strip()
            qs = qs.filter(Q(name__icontains=term) | Q(barcode=term) | Q(internal_code__iexact=term))
        for name in ("supplier", "category"):
            if name in params:
                qs = qs.filter(**{f"{name}_id": params[name]})
        if params.get("below_min"):
            qs = selectors.filter_below_minimum(qs)
        if params.get("local"):
            qs = qs.filter(local=True)
        return qs

    def _render(self, product: Product, code=status.HTTP_200_OK):
        product = self.get_queryset().get(pk=product.pk)
        return Response(ProductSerializer(product).data, status=code)

    @extend_schema(request=ProductCreateSerializer, responses={201: ProductSerializer})
    def create(self, request):
        data = ProductCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        product = services.product_create(by=request.user, **data.validated_data)
        return self._render(product, status.HTTP_201_CREATED)

    @extend_schema(request=StockMoveCreateSerializer, responses={201: StockMoveSerializer})
    @action(detail=True, methods=["post"], url_path="stock-moves")
    def stock_moves(self, request, pk=None):
        product = get_object_or_404(Product, pk=pk)
        data = StockMoveCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        today = local_today()
        move = services.stock_move_record(
            product=product, date=fields.pop("date", None) or today, today=today, by=request.user, **fields
        )
        stock = selectors.product_stock(product)
        return Response(StockMoveSerializer(move, context={"stock": stock}).data, status=status.HTTP_201_CREATED)
