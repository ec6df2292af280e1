import pytest

from inventory import demo, selectors
from inventory.models import Product, PurchaseOrder, SalesImport, StockMove

from .factories import TODAY

pytestmark = pytest.mark.django_db


def test_demo_data_is_idempotent_and_exercises_every_page_of_the_week():
    first = demo.seed(today=TODAY, weeks=3)
    moves = StockMove.objects.count()
    assert first["products"] == len(demo.PRODUCTS) and first["orders"] > 0
    assert SalesImport.objects.exists() and moves > 100
    assert demo.seed(today=TODAY, weeks=3) == first
    assert StockMove.objects.count() == moves
    assert PurchaseOrder.objects.filter(status="received").count() == first["orders"]
    months = selectors.local_sourcing_by_month(start=TODAY.replace(month=1, day=1), end=TODAY)
    assert months and all(m.share is not None for m in months)
    assert Product.objects.filter(label_needs_reprint=True).exists()
