"""Sales import from the till's CSV and supplier catalogue import: bad rows reported with their
line numbers, good rows kept, the same file twice does not double the sales."""
import datetime
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError

from inventory import csvfiles, selectors, services
from inventory.models import Product, SalesImport, StockMove

from .factories import TODAY, category, ean, move, product, supplier

pytestmark = pytest.mark.django_db


@pytest.fixture
def shelf():
    farm = supplier()
    yoghurt = product(supplier_obj=farm, barcode="4006381333931", cost="0.50", name="Yaourt")
    lentils = product(supplier_obj=farm, internal_code="VRAC-LENT", barcode=None, unit="kg", cost="2.00", name="Lentilles")
    move(yoghurt, "reception", 100, date=TODAY - datetime.timedelta(days=10))
    move(lentils, "reception", 20, date=TODAY - datetime.timedelta(days=10))
    return yoghurt, lentils


SALES = (
    "date,barcode,quantity,unit_price\n"  # line 1
    "2026-03-14,4006381333931,3,0.63\n"  # 2 ok
    "2026-03-14,VRAC-LENT,0.750,2.53\n"  # 3 ok (kg)
    "2026-03-14,4006381333932,1,0.63\n"  # 4 wrong check digit
    "2026-03-14,3017620422003,1,2.10\n"  # 5 unknown product
    "\n"  # 6 blank: ignored
    "2026-02-30,4006381333931,1,0.63\n"  # 7 bad date
    "2026-03-15,4006381333931,-2,0.63\n"  # 8 negative quantity
    "2026-03-15,4006381333931,2,-0.63\n"  # 9 negative price
    "2026-03-15,4006381333931,2,0.63\n"  # 10 ok
    "2026-03-15,4006381333931,2,0.63\n"  # 11 ok: the same sale twice in a day is two sales
    "2026-03-17,4006381333931,1,0.63\n"  # 12 in the future (today is 2026-03-16)
    "2026-03-15,4006381333931\n"  # 13 missing columns
)


def test_bad_rows_are_reported_with_line_numbers_and_good_rows_kept(shelf):
    yoghurt, lentils = shelf
    result = services.sales_import(content=SALES.encode(), filename="ventes.csv", today=TODAY)
    assert result.created == 4
    assert [(e.line, e.message.split(" ")[0]) for e in result.errors] == [
        (4, "invalid"), (5, "unknown"), (7, "invalid"), (8, "invalid"), (9, "invalid"), (12, "date"), (13, "invalid"),
    ]
    assert "wrong check digit" in result.errors[0].message
    assert selectors.product_stock(yoghurt) == D(93)
    assert selectors.product_stock(lentils) == D("19.25")
    batch = result.sales_import
    assert (batch.rows_total, batch.rows_imported, batch.rows_rejected) == (11, 4, 7)
    assert batch.errors[0] == {"line": 4, "message": result.errors[0].message}
    sale = StockMove.objects.filter(product=lentils).get(kind="sale")
    assert (sale.quantity, sale.unit_price, sale.date, sale.sales_import) == (D("-0.750"), D("2.53"), datetime.date(2026, 3, 14), batch)


def test_the_same_file_twice_does_not_double_the_sales(shelf):
    yoghurt, _lentils = shelf
    first = services.sales_import(content=SALES.encode(), filename="ventes.csv", today=TODAY)
    again = services.sales_import(content=SALES.replace("\n", "\r\n").encode(), filename="copy.csv", today=TODAY)
    assert again.duplicate_of == first.sales_import
    assert again.created == 0
    assert SalesImport.objects.count() == 1
    assert selectors.product_stock(yoghurt) == D(93)


def test_a_corrected_file_only_adds_the_rows_rejected_before(shelf):
    yoghurt, _lentils = shelf
    services.sales_import(content=SALES.encode(), filename="ventes.csv", today=TODAY)
    fixed = SALES.replace("4006381333932", "4006381333931").replace("2026-02-30", "2026-02-28")
    result = services.sales_import(content=fixed.encode(), filename="ventes-corrigees.csv", today=TODAY)
    assert (result.created, result.skipped) == (2, 4)  # lines 4 and 7 now good; the 4 good rows are known
    assert selectors.product_stock(yoghurt) == D(91)
    assert SalesImport.objects.count() == 2


def test_french_export_with_semicolons_decimal_commas_and_french_dates(shelf):
    _yoghurt, lentils = shelf
    content = "Date;Code barre;Quantité;Prix unitaire\n14/03/2026;VRAC-LENT;1,250;2,53\n".encode("cp1252")
    result = services.sales_import(content=content, filename="export.csv", today=TODAY)
    assert (result.created, result.errors) == (1, [])
    assert selectors.product_stock(lentils) == D("18.75")


def test_a_file_without_the_required_columns_is_refused_whole(shelf):
    with pytest.raises(ValidationError) as exc:
        services.sales_import(content=b"day,code,qty\n2026-03-14,4006381333931,1\n", filename="x.csv", today=TODAY)
    assert "unit_price" in str(exc.value)
    with pytest.raises(ValidationError):
        services.sales_import(content=b"", filename="empty.csv", today=TODAY)
    assert SalesImport.objects.count() == 0
    assert StockMove.objects.filter(kind="sale").count() == 0


def test_a_file_with_only_bad_rows_writes_no_sale_but_keeps_the_report(shelf):
    result = services.sales_import(content=b"date,barcode,quantity,unit_price\n2026-03-14,999,1,1\n", filename="x.csv", today=TODAY)
    assert result.created == 0 and [e.line for e in result.errors] == [2]
    assert StockMove.objects.filter(kind="sale").count() == 0


def test_sales_feed_the_reorder_suggestions(shelf):
    yoghurt, _lentils = shelf
    services.product_update(product=yoghurt, min_stock=D(100), package_size=D(12))
    services.sales_import(content=SALES.encode(), filename="ventes.csv", today=TODAY)
    [suggestion] = [s for s in selectors.reorder_suggestions(today=TODAY) if s.product == yoghurt]
    # 7 sold in 28 days; target max(7, 100) = 100; stock 93 -> 7 -> 1 package of 12
    assert (suggestion.sold, suggestion.quantity) == (D(7), D(12))


# --- catalogue import -------------------------------------------------------------------------

CATALOGUE = (
    "barcode;name;cost_price;vat_rate;unit;package_size;category\n"  # 1
    "4006381333931;Yaourt nature bio;0,55;5,5;piece;12;Crèmerie\n"  # 2 update (price)
    "3017620422003;Pâte à tartiner;3,10;5,5;piece;6;\n"  # 3 create
    "3017620422004;Mauvais code;1;5,5;piece;1;\n"  # 4 wrong check digit
    "5449000000996;Soda;1,00;19,6;piece;24;\n"  # 5 VAT not allowed
    "VRAC-RIZ;Riz complet;2,40;5,5;kg;5;Inconnue\n"  # 6 unknown category
    "VRAC-RIZ2;Riz blanc;-1;5,5;kg;5;\n"  # 7 negative price
    "3017620422003;Doublon;3,10;5,5;piece;6;\n"  # 8 duplicate in file
    "VRAC-AVOINE;Flocons d'avoine;1,80;5,5;kg;5;\n"  # 9 create loose goods
)


def test_catalogue_creates_and_updates_by_barcode_with_line_numbered_errors(shelf):
    yoghurt, _lentils = shelf
    services.labels_mark_printed(products=[yoghurt])
    category("Crèmerie")
    farm = yoghurt.supplier
    result = services.catalogue_import(supplier=farm, content=CATALOGUE.encode())
    assert (result.created, result.updated) == (2, 1)
    assert [e.line for e in result.errors] == [4, 5, 6, 7, 8]
    assert "check digit" in result.errors[0].message
    assert "VAT" in result.errors[1].message
    yoghurt.refresh_from_db()
    assert (yoghurt.name, yoghurt.cost_price, yoghurt.package_size, yoghurt.category.name) == (
        "Yaourt nature bio", D("0.55"), D(12), "Crèmerie",
    )
    assert (yoghurt.sale_price, yoghurt.label_needs_reprint) == (D("0.70"), True)  # 0.55 x 1.2 x 1.055 = 0.6963
    spread = Product.objects.get(barcode="3017620422003")
    assert (spread.supplier, spread.sale_price) == (farm, D("3.92"))  # 3.10 x 1.2 x 1.055 = 3.9246
    oats = Product.objects.get(internal_code="VRAC-AVOINE")
    assert (oats.unit, oats.barcode) == ("kg", None)
    again = services.catalogue_import(supplier=farm, content=CATALOGUE.encode())
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)


def test_catalogue_does_not_take_another_suppliers_product(shelf):
    yoghurt, _lentils = shelf
    other = supplier()
    result = services.catalogue_import(supplier=other, content=b"barcode,name,cost_price,vat_rate\n4006381333931,Yaourt,1,5.5\n")
    assert [e.line for e in result.errors] == [2]
    yoghurt.refresh_from_db()
    assert yoghurt.supplier != other


def test_catalogue_file_without_required_columns():
    with pytest.raises(ValidationError):
        services.catalogue_import(supplier=supplier(), content=b"barcode,name\n" + ean().encode() + b",X\n")


# --- CSV reading ------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "delimiter", "value"), [
    ("1.5", ",", D("1.5")), ("1,5", ";", D("1.5")), ("1 234,50", ";", D("1234.50")), ("1.234,50", ";", D("1234.50")),
    ("2,53 €", ";", D("2.53")),
])
def test_parse_decimal(text, delimiter, value):
    assert csvfiles.parse_decimal(text, delimiter) == value


@pytest.mark.parametrize("text", ["", "abc", "NaN", "inf"])
def test_parse_decimal_refuses(text):
    with pytest.raises(ValueError):
        csvfiles.parse_decimal(text, ",")


def test_parse_date():
    assert csvfiles.parse_date("2026-03-14") == datetime.date(2026, 3, 14)
    assert csvfiles.parse_date("2026-03-14T18:02:00") == datetime.date(2026, 3, 14)
    assert csvfiles.parse_date("14/03/2026") == datetime.date(2026, 3, 14)
    with pytest.raises(ValueError):
        csvfiles.parse_date("14.03.2026")


def test_file_hash_ignores_line_endings_and_bom():
    assert csvfiles.file_hash(b"a,b\n1,2\n") == csvfiles.file_hash(b"\xef\xbb\xbfa,b\r\n1,2\r\n")
    assert csvfiles.file_hash(b"a,b\n1,2\n") != csvfiles.file_hash(b"a,b\n1,3\n")
