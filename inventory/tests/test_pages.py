"""The supply team's pages (/inventory/): permissions, wiring, constant queries, PDFs, CSV."""
import datetime
import io
from decimal import Decimal as D

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from pypdf import PdfReader

from inventory import charts, selectors, services
from inventory.models import Product, PurchaseOrder, SalesImport, StockCount, StockMove, Supplier

from .factories import TODAY, category, ean, move, product, supplier, user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def pinned_today(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: TODAY)


@pytest.fixture
def world():
    farm = supplier("Ferme du Bois", distance_km=25, email="bois@example.org")
    veg = category("Légumes")
    carrots = product(supplier_obj=farm, category=veg, name="Carottes", unit="kg", internal_code="CAR", barcode=None,
                      cost="1.20", min_stock=D(10), package_size=D(5))
    honey = product(supplier_obj=farm, name="Miel", cost="5.00", content_quantity=D("0.500"), content_unit="kg")
    move(carrots, "reception", 12, date=TODAY - datetime.timedelta(days=20))
    move(carrots, "sale", 8, date=TODAY - datetime.timedelta(days=2))
    order = services.purchase_order_create(supplier=farm, lines=[(honey, D(6), None)])
    count = services.stock_count_create(category=veg, counted_on=TODAY)
    batch = services.sales_import(content=b"date,barcode,quantity,unit_price\n2026-03-15,CAR,1,1.52\n", filename="s.csv", today=TODAY)
    return {"supplier": farm, "category": veg, "carrots": carrots, "honey": honey, "order": order, "count": count,
            "import": batch.sales_import}


def pages(world):
    return [
        ("/inventory/", 200), ("/inventory/suppliers/", 200), ("/inventory/suppliers/?_export=csv", 200),
        ("/inventory/suppliers/new/", 200), (f"/inventory/suppliers/{world['supplier'].pk}/edit/", 200),
        ("/inventory/products/", 200), ("/inventory/products/?_export=csv", 200), ("/inventory/products/new/", 200),
        (f"/inventory/products/{world['carrots'].pk}/", 200), (f"/inventory/products/{world['carrots'].pk}/edit/", 200),
        ("/inventory/categories/", 200), (f"/inventory/categories/{world['category'].pk}/", 200),
        ("/inventory/counts/", 200), (f"/inventory/counts/{world['count'].pk}/", 200), ("/inventory/reorder/", 200),
        ("/inventory/orders/", 200), ("/inventory/orders/?_export=csv", 200), ("/inventory/orders/new/", 200),
        (f"/inventory/orders/{world['order'].pk}/", 200), (f"/inventory/orders/{world['order'].pk}/order.pdf", 200),
        ("/inventory/imports/sales/", 200), (f"/inventory/imports/sales/{world['import'].pk}/", 200),
        ("/inventory/imports/catalogue/", 200), ("/inventory/labels/", 200), ("/inventory/labels.pdf", 200),
        ("/inventory/reports/", 200),
    ]


def client_for(role):
    client = Client()
    if role != "anonymous":
        groups = {"cashier": ("cashiers",), "coordinator": ("coordinators",), "supply": ("supply",)}.get(role, ())
        client.force_login(user(f"{role}-page", *groups, superuser=role == "superuser"))
    return client


@pytest.mark.parametrize("role", ["anonymous", "cooperator", "cashier", "coordinator", "supply", "superuser"])
def test_role_walk_over_every_page(role, world):
    client = client_for(role)
    for path, ok in pages(world):
        response = client.get(path)
        if role in ("supply", "superuser"):
            assert response.status_code == ok, path
        elif role == "anonymous":
            assert response.status_code == 302 and "/accounts/login/" in response["Location"], path
        else:
            assert response.status_code == 403, (role, path)


@pytest.mark.parametrize("role", ["anonymous", "cashier", "coordinator"])
def test_refused_posts_write_nothing(role, world):
    client = client_for(role)
    before = (StockMove.objects.count(), PurchaseOrder.objects.count(), Supplier.objects.count(),
              list(PurchaseOrder.objects.values_list("pk", "status")))
    posts = [
        (f"/inventory/products/{world['carrots'].pk}/", {"kind": "loss", "quantity": "1", "date": "2026-03-16"}),
        ("/inventory/reorder/", {"product": [world["carrots"].pk]}),
        ("/inventory/suppliers/new/", {"name": "X", "city": "Y", "distance_km": "3"}),
        (f"/inventory/orders/{world['order'].pk}/", {"action": "send_without_email"}),
    ]
    for path, data in posts:
        response = client.post(path, data)
        if role == "anonymous":
            assert response.status_code == 302 and "/accounts/login/" in response["Location"], path
        else:
            assert response.status_code == 403, path
    assert (StockMove.objects.count(), PurchaseOrder.objects.count(), Supplier.objects.count(),
            list(PurchaseOrder.objects.values_list("pk", "status"))) == before


def test_supply_navbar_link(world):
    assert b"/inventory/" in client_for("supply").get("/").content
    assert b'href="/inventory/"' not in client_for("coordinator").get("/").content


@pytest.fixture
def supply_client():
    return client_for("supply")


def test_product_list_filters_and_csv(supply_client, world):
    far = supplier("Grossiste", distance_km=500)
    product(supplier_obj=far, name="Café", min_stock=D(0))
    page = supply_client.get("/inventory/products/?below_min=true")
    assert b"Carottes" in page.content and b"Caf\xc3\xa9" not in page.content
    assert b"Carottes" not in supply_client.get("/inventory/products/?local=false").content
    assert b"Carottes" in supply_client.get(f"/inventory/products/?category={world['category'].pk}").content
    filtered = supply_client.get(f"/inventory/products/?supplier={far.pk}").content.decode()
    assert "Miel" not in filtered
    assert f'<option value="{far.pk}" selected>Grossiste</option>' in filtered
    export = supply_client.get(f"/inventory/products/?_export=csv&supplier={world['supplier'].pk}")
    csv = (b"".join(export.streaming_content) if export.streaming else export.content).decode()
    assert "Carottes" in csv and "CAR" in csv and "Café" not in csv
    carrots_row = next(line for line in csv.splitlines() if line.startswith("Carottes"))
    assert ",3," in carrots_row  # stock 12 - 8 - 1 = 3


def test_product_list_queries_do_not_grow_with_products(supply_client, world, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        response = supply_client.get("/inventory/products/")
    assert response.status_code == 200 and len(response.context["table"].page.object_list) == 2
    farm = world["supplier"]
    for n in range(30):
        item = product(supplier_obj=farm, category=world["category"], min_stock=D(2))
        move(item, "reception", n + 1)
    with CaptureQueriesContext(connection) as many:
        response = supply_client.get("/inventory/products/")
    assert response.status_code == 200 and len(response.context["table"].page.object_list) == 32
    assert len(many.captured_queries) == len(few.captured_queries)
    with django_assert_max_num_queries(len(few.captured_queries)):
        export = supply_client.get("/inventory/products/?_export=csv")
        csv = (b"".join(export.streaming_content) if export.streaming else export.content).decode()
    assert export.status_code == 200 and len(csv.splitlines()) == 33  # header and 32 products


def test_recording_a_move_on_the_product_page(supply_client, world):
    carrots = world["carrots"]
    response = supply_client.post(f"/inventory/products/{carrots.pk}/", {"kind": "count", "quantity": "2.5", "date": "2026-03-16"})
    assert response.status_code == 302
    assert selectors.product_stock(carrots) == D("2.5")
    bad = supply_client.post(f"/inventory/products/{carrots.pk}/", {"kind": "sale", "quantity": "-1", "date": "2026-03-16"})
    assert bad.status_code == 200 and selectors.product_stock(carrots) == D("2.5")


def test_creating_a_product_with_a_wrong_check_digit_shows_the_error(supply_client, world):
    response = supply_client.post("/inventory/products/new/", {
        "name": "Confiture", "barcode": "4006381333932", "supplier": world["supplier"].pk, "unit": "piece",
        "package_size": "1", "cost_price": "2.00", "vat_rate": "5.5", "min_stock": "0", "active": "on",
    })
    assert response.status_code == 200
    assert b"check digit" in response.content
    assert not Product.objects.filter(name="Confiture").exists()
    ok = supply_client.post("/inventory/products/new/", {
        "name": "Confiture", "barcode": "4006381333931", "supplier": world["supplier"].pk, "unit": "piece",
        "package_size": "1", "cost_price": "2.00", "vat_rate": "5.5", "min_stock": "0", "active": "on",
    })
    assert ok.status_code == 302
    assert Product.objects.get(name="Confiture").sale_price == D("2.53")


def test_a_week_of_ordering_through_the_pages(supply_client, world, django_capture_on_commit_callbacks):
    carrots = world["carrots"]
    page = supply_client.get("/inventory/reorder/")
    assert b"Carottes" in page.content
    # 9 sold in the last 28 days; target max(9, 10) = 10; stock 3 -> 7 -> 2 bags of 5 = 10
    [suggestion] = [s for s in selectors.reorder_suggestions(today=TODAY) if s.product == carrots]
    assert suggestion.quantity == D(10)
    response = supply_client.post("/inventory/reorder/", {"product": [carrots.pk], f"quantity-{carrots.pk}": "15"})
    order = PurchaseOrder.objects.get(pk=world["order"].pk)  # the supplier's existing draft is reused
    assert response.status_code == 302 and response["Location"] == order.get_absolute_url()
    assert order.lines.get(product=carrots).quantity == D(15)
    with django_capture_on_commit_callbacks(execute=True):
        assert supply_client.post(order.get_absolute_url(), {"action": "send"}).status_code == 302
    order.refresh_from_db()
    assert order.status == "sent"
    assert mail.outbox[-1].to == ["bois@example.org"] and mail.outbox[-1].attachments[0][2] == "application/pdf"
    receive_url = f"/inventory/orders/{order.pk}/receive/"
    lines = {line.product_id: line.pk for line in order.lines.all()}
    too_much = supply_client.post(receive_url, {
        "received_on": "2026-03-16", f"quantity_{lines[carrots.pk]}": "16", f"price_{lines[carrots.pk]}": "1.20",
        f"quantity_{lines[world['honey'].pk]}": "6", f"price_{lines[world['honey'].pk]}": "5.00",
    })
    assert too_much.status_code == 200 and b"only expects 15" in too_much.content
    assert StockMove.objects.filter(kind="reception", reference=order.reference).count() == 0
    partial = supply_client.post(receive_url, {
        "received_on": "2026-03-16", f"quantity_{lines[carrots.pk]}": "10", f"price_{lines[carrots.pk]}": "1.25",
        f"quantity_{lines[world['honey'].pk]}": "6", f"price_{lines[world['honey'].pk]}": "5.00",
    })
    assert partial.status_code == 302
    order.refresh_from_db()
    assert order.status == "partially_received"
    detail = supply_client.get(order.get_absolute_url())
    assert b"table-warning" in detail.content  # the short, dearer carrots are flagged
    assert selectors.product_stock(carrots) == D(13)


def test_count_sheet_page(supply_client, world):
    count, carrots = world["count"], world["carrots"]
    line = count.lines.get(product=carrots)
    response = supply_client.post(f"/inventory/counts/{count.pk}/", {f"counted-{line.pk}": "2,5", "apply": "1"})
    assert response.status_code == 302
    count.refresh_from_db()
    assert count.status == StockCount.Status.APPLIED
    assert count.loss_value == D("0.60")  # expected 3, found 2.5, at 1.20
    assert selectors.product_stock(carrots) == D("2.5")
    assert b"0.60" in supply_client.get(f"/inventory/counts/{count.pk}/").content
    new = supply_client.post("/inventory/counts/", {"category": world["category"].pk, "counted_on": "2026-03-16"})
    assert new.status_code == 302 and StockCount.objects.count() == 2


def test_sales_import_page_reports_bad_lines(supply_client, world):
    content = b"date,barcode,quantity,unit_price\n2026-03-15,CAR,2,1.52\n2026-03-15,4006381333932,1,1\n2026-03-15,CAR,x,1\n"
    response = supply_client.post("/inventory/imports/sales/", {"file": SimpleUploadedFile("ventes.csv", content, "text/csv")})
    assert response.status_code == 200
    text = response.content.decode()
    assert "2 rows rejected" in text and ">3<" in text and ">4<" in text and "wrong check digit" in text
    again = supply_client.post("/inventory/imports/sales/", {"file": SimpleUploadedFile("ventes.csv", content, "text/csv")})
    assert "already imported" in again.content.decode()
    assert SalesImport.objects.count() == 2  # the fixture's file and this one
    missing = supply_client.post("/inventory/imports/sales/", {"file": SimpleUploadedFile("x.csv", b"a,b\n1,2\n", "text/csv")})
    assert "missing column" in missing.content.decode()


def test_catalogue_import_page(supply_client, world):
    content = f"barcode,name,cost_price,vat_rate\n{ean()},Pain,2.00,5.5\n123,Bad,1,5.5\n".encode()
    response = supply_client.post("/inventory/imports/catalogue/", {
        "supplier": world["supplier"].pk, "file": SimpleUploadedFile("cat.csv", content, "text/csv"),
    })
    assert response.status_code == 200
    text = response.content.decode()
    assert "1 created" in text and "1 row rejected" in text
    assert Product.objects.filter(name="Pain").exists()


def test_labels_pdf_and_marking_them_printed(supply_client, world):
    honey = world["honey"]
    response = supply_client.get(f"/inventory/labels.pdf?product={honey.pk}")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert "Miel" in text and "6.33" in text and "12.66" in text and "per kg" in text  # 5 x 1.2 x 1.055; per kg for 500 g
    honey.refresh_from_db()
    assert honey.label_needs_reprint is True  # printing the PDF changes nothing
    assert supply_client.post("/inventory/labels/printed/", {"product": [honey.pk]}).status_code == 302
    honey.refresh_from_db()
    assert honey.label_needs_reprint is False
    assert b"Miel" not in supply_client.get("/inventory/labels/").content


def test_margin_page_reprices(supply_client, world):
    response = supply_client.post("/inventory/categories/", {"margin-margin": "25"})
    assert response.status_code == 302
    world["honey"].refresh_from_db()
    assert world["honey"].sale_price == D("6.59")  # 5 x 1.25 x 1.055 = 6.59375


def test_reports_page_draws_an_svg_chart(supply_client, world):
    response = supply_client.get("/inventory/reports/?start=2026-01-01&end=2026-03-31")
    assert response.status_code == 200
    text = response.content.decode()
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart"' in text
    assert "100.0 %" in text  # the one reception came from a local farm
    assert "<script" not in text.split("<main", 1)[1].split("</main>")[0]


def test_bar_chart_escapes_labels_and_scales():
    svg = charts.bar_chart([charts.Bar("<b>", D(50), "50 %"), charts.Bar("B", D(100), "100 %", highlight=True)],
                           title="Local & share", maximum=D(100))
    assert "&lt;b&gt;" in svg and "<b>" not in svg and "Local &amp; share" in svg
    assert svg.count("<rect") == 2
    assert charts.nice_ceiling(D("73")) == D(100) and charts.nice_ceiling(D("0.3")) == D("0.5")
    assert charts.nice_ceiling(D("180")) == D(200) and charts.nice_ceiling(D(0)) == D(1)


def test_reorder_page_summarises_by_supplier_and_details_one(supply_client, world, monkeypatch):
    other = supplier("Moulin", distance_km=60)
    flour = product(supplier_obj=other, name="Farine", min_stock=D(4))
    monkeypatch.setattr("inventory.views.REORDER_DETAIL_LIMIT", 1)
    summary = supply_client.get("/inventory/reorder/").content.decode()
    assert "Moulin" in summary and "Ferme du Bois" in summary
    assert 'name="quantity-' not in summary  # too many suggestions: details one supplier at a time
    detail = supply_client.get(f"/inventory/reorder/?supplier={other.pk}").content.decode()
    assert f'name="quantity-{flour.pk}"' in detail and f'name="quantity-{world["carrots"].pk}"' not in detail
    response = supply_client.post("/inventory/reorder/", {"all": "1"})
    assert response.status_code == 302
    assert PurchaseOrder.objects.filter(status="draft", supplier=other).get().lines.get().quantity == D(4)
    assert PurchaseOrder.objects.get(pk=world["order"].pk).lines.filter(product=world["carrots"]).exists()
