"""Pages of the supply team (/inventory/). Views parse input, call one service and render."""
from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, DecimalField, ExpressionWrapper, F, Sum
from django.db.models.functions import Coalesce
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from coopmarket.errors import RuleViolation
from coopmarket.forms import add_service_errors
from coopmarket.roles import SUPPLY, RoleRequiredMixin, is_supply
from coopmarket.tables import SafeExportMixin
from coopmarket.templatetags.coop import euros

from . import charts, documents, forms, labels, pricing, selectors, services
from .filters import OrderFilter, ProductFilter, SupplierFilter
from .models import (
    Category,
    InventoryParameters,
    Product,
    PurchaseOrder,
    SalesImport,
    StockCount,
    StockMove,
    Supplier,
)
from .tables import OrderTable, ProductTable, SupplierTable


def supply_required(view):
    """Function-view guard: login first, then the supply role (403 otherwise)."""

    @login_required
    def wrapped(request, *args, **kwargs):
        if not is_supply(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


class SupplyRequiredMixin(RoleRequiredMixin):
    required_role = SUPPLY


def _pdf(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def _error_text(exc: Exception) -> str:
    if isinstance(exc, RuleViolation):
        return exc.message
    return " ".join(exc.messages)


# --- overview ---------------------------------------------------------------------------------

@supply_required
def overview(request):
    today = timezone.localdate()
    params = InventoryParameters.current()
    below = selectors.products_with_stock(params).filter(active=True, stock__lt=F("min_stock")).count()
    months = selectors.local_sourcing_by_month(start=today.replace(day=1), end=today, params=params)
    return render(request, "inventory/overview.html", {
        "below_minimum": below,
        "labels_to_print": Product.objects.filter(active=True, label_needs_reprint=True).count(),
        "drafts": PurchaseOrder.objects.filter(status=PurchaseOrder.Status.DRAFT).count(),
        "awaiting": PurchaseOrder.objects.filter(status__in=selectors.OPEN_ORDER_STATUSES).count(),
        "open_counts": StockCount.objects.filter(status=StockCount.Status.OPEN).count(),
        "last_import": SalesImport.objects.first(),
        "this_month": months[0] if months else None,
        "params": params,
    })


# --- suppliers --------------------------------------------------------------------------------

class SupplierListView(SupplyRequiredMixin, SafeExportMixin, SingleTableMixin, FilterView):
    table_class = SupplierTable
    filterset_class = SupplierFilter
    template_name = "inventory/supplier_list.html"
    table_pagination = {"per_page": 50}
    export_name = "suppliers"

    def get_queryset(self):
        self.params = InventoryParameters.current()
        return selectors.suppliers(self.params).annotate(products_count=Count("products"))

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "params": self.params}


@supply_required
def supplier_create(request):
    form = forms.SupplierForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            supplier = services.supplier_create(by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Supplier %(name)s added.") % {"name": supplier.name})
            return redirect("inventory:supplier_list")
    return render(request, "inventory/form.html", {"form": form, "title": _("New supplier"), "back": "inventory:supplier_list"})


@supply_required
def supplier_edit(request, pk):
    supplier = get_object_or_404(Supplier, pk=pk)
    form = forms.SupplierForm(request.POST or None, instance=Supplier.objects.get(pk=pk))
    if request.method == "POST" and form.is_valid():
        try:
            services.supplier_update(supplier=supplier, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("inventory:supplier_list")
    return render(request, "inventory/form.html", {
        "form": form, "title": _("Edit %(name)s") % {"name": supplier.name}, "back": "inventory:supplier_list",
    })


# --- products ---------------------------------------------------------------------------------

class ProductListView(SupplyRequiredMixin, SafeExportMixin, SingleTableMixin, FilterView):
    """The stock list: every product with its stock summed in the database (constant queries)."""

    table_class = ProductTable
    filterset_class = ProductFilter
    template_name = "inventory/product_list.html"
    table_pagination = {"per_page": 50}
    export_name = "products"

    def get_queryset(self):
        return selectors.products_with_stock()


@supply_required
def product_create(request):
    form = forms.ProductForm(request.POST or None, initial={"supplier": request.GET.get("supplier")})
    if request.method == "POST" and form.is_valid():
        try:
            product = services.product_create(by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Product %(name)s added at %(price)s.") % {"name": product.name, "price": euros(product.sale_price)})
            return redirect(product)
    return render(request, "inventory/form.html", {"form": form, "title": _("New product"), "back": "inventory:product_list"})


@supply_required
def product_edit(request, pk):
    product = get_object_or_404(Product, pk=pk)
    form = forms.ProductForm(request.POST or None, instance=Product.objects.get(pk=pk))
    if request.method == "POST" and form.is_valid():
        changed = {name: form.cleaned_data[name] for name in form.changed_data}
        try:
            services.product_update(product=product, by=request.user, **changed)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect(product)
    return render(request, "inventory/form.html", {
        "form": form, "title": _("Edit %(name)s") % {"name": product.name}, "back_url": product.get_absolute_url(),
    })


@supply_required
def product_detail(request, pk):
    product = get_object_or_404(selectors.products_with_stock(), pk=pk)
    moves = StockMove.objects.filter(product=product).select_related("author").order_by("-date", "-id")
    page = Paginator(moves, 50).get_page(request.GET.get("page"))
    move_form = forms.StockMoveForm(request.POST or None, initial={"date": timezone.localdate(), "kind": StockMove.Kind.LOSS})
    if request.method == "POST" and move_form.is_valid():
        try:
            services.stock_move_record(product=product, today=timezone.localdate(), by=request.user, **move_form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(move_form, exc)
        else:
            messages.success(request, _("Stock move recorded."))
            return redirect(product)
    content = (product.content_quantity, product.content_unit) if product.content_quantity else None
    return render(request, "inventory/product_detail.html", {
        "product": product, "page": page, "move_form": move_form,
        "reference_price": pricing.reference_price(product.sale_price, product.unit, content),
        "barcode": labels.barcode_data_uri(product.code),
    })


# --- categories and margins -------------------------------------------------------------------

@supply_required
def categories(request):
    params = InventoryParameters.current()
    margin_form = forms.MarginForm(initial={"margin": params.default_margin}, prefix="margin")
    category_form = forms.CategoryForm(prefix="category")
    if request.method == "POST":
        if "margin-margin" in request.POST:
            margin_form = forms.MarginForm(request.POST, prefix="margin")
            if margin_form.is_valid():
                try:
                    changed = services.margin_set(margin=margin_form.cleaned_data["margin"], by=request.user)
                except ValidationError as exc:
                    add_service_errors(margin_form, exc)
                else:
                    messages.success(request, ngettext(
                        "Margin saved: %(n)d price changed, its label is to print.",
                        "Margin saved: %(n)d prices changed, their labels are to print.", changed) % {"n": changed})
                    return redirect("inventory:categories")
        else:
            category_form = forms.CategoryForm(request.POST, prefix="category")
            if category_form.is_valid():
                try:
                    services.category_create(by=request.user, **category_form.cleaned_data)
                except ValidationError as exc:
                    add_service_errors(category_form, exc)
                else:
                    messages.success(request, _("Category added."))
                    return redirect("inventory:categories")
    rows = Category.objects.annotate(products_count=Count("products")).order_by("name")
    return render(request, "inventory/categories.html", {
        "params": params, "margin_form": margin_form, "category_form": category_form, "categories": rows,
    })


@supply_required
def category_edit(request, pk):
    category = get_object_or_404(Category, pk=pk)
    form = forms.CategoryForm(request.POST or None, initial={"name": category.name, "margin": category.margin})
    if request.method == "POST" and form.is_valid():
        try:
            changed = services.category_update(category=category, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, ngettext(
                "Saved: %(n)d price changed.", "Saved: %(n)d prices changed.", changed) % {"n": changed})
            return redirect("inventory:categories")
    return render(request, "inventory/form.html", {
        "form": form, "title": _("Category %(name)s") % {"name": category.name}, "back": "inventory:categories",
    })


# --- stock counts -----------------------------------------------------------------------------

@supply_required
def counts(request):
    form = forms.CountCreateForm(request.POST or None, initial={"counted_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        count = services.stock_count_create(by=request.user, **form.cleaned_data)
        return redirect(count)
    rows = StockCount.objects.select_related("category").annotate(lines_count=Count("lines"))[:100]
    return render(request, "inventory/counts.html", {"form": form, "counts": rows})


@supply_required
def count_detail(request, pk):
    count = get_object_or_404(StockCount.objects.select_related("category"), pk=pk)
    lines = list(count.lines.select_related("product").order_by("product__name", "id"))
    errors = []
    if request.method == "POST" and count.is_open:
        counted = {line.pk: request.POST.get(f"counted-{line.pk}", "").strip().replace(",", ".") for line in lines}
        try:
            services.stock_count_save(count=count, counted=counted, by=request.user)
            if "apply" in request.POST:
                count = services.stock_count_apply(count=count, now=timezone.now(), by=request.user)
                messages.success(request, _("Count applied: losses %(loss)s, surplus %(gain)s.") % {
                    "loss": euros(count.loss_value), "gain": euros(count.gain_value)})
            else:
                messages.success(request, _("Counted quantities saved."))
            return redirect(count)
        except (ValidationError, RuleViolation) as exc:
            errors.append(_error_text(exc))
            submitted = counted
        for line in lines:
            line.submitted = submitted.get(line.pk, "")
    return render(request, "inventory/count_detail.html", {"count": count, "lines": lines, "errors": errors})


# --- reorder suggestions ----------------------------------------------------------------------

REORDER_DETAIL_LIMIT = 60  # above this many suggestions, details are shown one supplier at a time


@supply_required
def reorder(request):
    """Reorder suggestions by supplier: a summary, and the products to tick and quantities to
    change (every supplier's when there are few, else the chosen supplier's)."""
    today = timezone.localdate()
    if request.method == "POST":
        return _reorder_post(request, today)
    params = InventoryParameters.current()
    suggestions = selectors.reorder_suggestions(today=today, params=params)
    groups: dict[int, dict] = {}
    for suggestion in suggestions:
        group = groups.setdefault(suggestion.product.supplier_id, {
            "supplier": suggestion.product.supplier, "rows": [], "total": Decimal(0), "to_order": 0,
        })
        group["rows"].append(suggestion)
        group["total"] += suggestion.amount
        group["to_order"] += 1 if suggestion.quantity > 0 else 0
    chosen = request.GET.get("supplier", "")
    if chosen.isdigit() and int(chosen) in groups:
        details = [groups[int(chosen)]]
    elif len(suggestions) <= REORDER_DETAIL_LIMIT:
        details = list(groups.values())
    else:
        details = []
    return render(request, "inventory/reorder.html", {
        "groups": list(groups.values()), "details": details, "params": params, "count": len(suggestions),
        "total": sum((g["total"] for g in groups.values()), Decimal(0)), "chosen": chosen,
    })


def _reorder_post(request, today):
    if request.POST.get("all"):
        chosen, quantities = None, {}
    else:
        chosen = {int(pk) for pk in request.POST.getlist("product") if pk.isdigit()}
        quantities = {}
        for pk in chosen:
            raw = request.POST.get(f"quantity-{pk}", "").strip().replace(",", ".")
            if raw:
                try:
                    quantities[pk] = Decimal(raw)
                except ArithmeticError:
                    messages.error(request, _("Quantities are numbers."))
                    return redirect("inventory:reorder")
        if not chosen:
            messages.error(request, _("Tick the products to order."))
            return redirect("inventory:reorder")
    try:
        orders = services.purchase_orders_from_suggestions(product_ids=chosen, quantities=quantities, today=today, by=request.user)
    except (ValidationError, RuleViolation) as exc:
        messages.error(request, _error_text(exc))
        return redirect("inventory:reorder")
    messages.success(request, ngettext("%(n)d draft order ready: check it and send it.",
                                       "%(n)d draft orders ready: check them and send them.", len(orders)) % {"n": len(orders)})
    if len(orders) == 1:
        return redirect(orders[0])
    return redirect(f"{reverse('inventory:order_list')}?status=draft")


# --- purchase orders --------------------------------------------------------------------------

MONEY_FIELD = DecimalField(max_digits=14, decimal_places=2)


class OrderListView(SupplyRequiredMixin, SafeExportMixin, SingleTableMixin, FilterView):
    table_class = OrderTable
    filterset_class = OrderFilter
    template_name = "inventory/order_list.html"
    table_pagination = {"per_page": 50}
    export_name = "purchase-orders"

    def get_queryset(self):
        return PurchaseOrder.objects.select_related("supplier").annotate(
            lines_count=Count("lines"),
            total=Coalesce(Sum(ExpressionWrapper(F("lines__quantity") * F("lines__unit_price"), output_field=MONEY_FIELD)),
                           Decimal("0"), output_field=MONEY_FIELD),
        )


@supply_required
def order_create(request):
    form = forms.OrderCreateForm(request.POST or None, initial={"supplier": request.GET.get("supplier")})
    if request.method == "POST" and form.is_valid():
        order = services.purchase_order_create(by=request.user, **form.cleaned_data)
        return redirect(order)
    return render(request, "inventory/form.html", {"form": form, "title": _("New purchase order"), "back": "inventory:order_list"})


@supply_required
def order_detail(request, pk):
    order = get_object_or_404(PurchaseOrder.objects.select_related("supplier"), pk=pk)
    line_form = forms.OrderLineForm(order=order, prefix="line")
    details_form = forms.OrderDetailsForm(initial={"expected_on": order.expected_on, "notes": order.notes}, prefix="details")
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "add" or action == "update":
                line_form = forms.OrderLineForm(request.POST, order=order, prefix="line")
                if line_form.is_valid():
                    services.purchase_order_set_line(order=order, by=request.user, **line_form.cleaned_data)
                    messages.success(request, _("Line saved."))
                    return redirect(order)
            elif action == "remove":
                line = get_object_or_404(order.lines, pk=request.POST.get("line"))
                services.purchase_order_remove_line(order=order, line=line, by=request.user)
                messages.success(request, _("Line removed."))
                return redirect(order)
            elif action == "details":
                details_form = forms.OrderDetailsForm(request.POST, prefix="details")
                if details_form.is_valid():
                    services.purchase_order_update(order=order, by=request.user, **details_form.cleaned_data)
                    messages.success(request, _("Changes saved."))
                    return redirect(order)
            elif action in ("send", "send_without_email"):
                services.purchase_order_send(order=order, now=timezone.now(), email=action == "send", by=request.user)
                if action == "send":
                    messages.success(request, _("Order sent: its PDF is on its way to %(email)s.") % {"email": order.supplier.email})
                else:
                    messages.success(request, _("Order marked as sent."))
                return redirect(order)
            elif action == "cancel":
                services.purchase_order_cancel(order=order, by=request.user)
                messages.success(request, _("Order cancelled."))
                return redirect(order)
        except (ValidationError, RuleViolation) as exc:
            if action in ("add", "update"):
                add_service_errors(line_form, exc)
            else:
                messages.error(request, _error_text(exc))
                return redirect(order)
    lines = list(selectors.order_lines_with_received(order))
    receptions = order.receptions.prefetch_related("lines__order_line__product").select_related("received_by")
    return render(request, "inventory/order_detail.html", {
        "order": order, "lines": lines, "total": sum((line.amount for line in lines), Decimal(0)),
        "line_form": line_form, "details_form": details_form, "receptions": receptions,
    })


@supply_required
def order_receive(request, pk):
    order = get_object_or_404(PurchaseOrder.objects.select_related("supplier"), pk=pk)
    if not order.can_receive:
        messages.error(request, _("Only a sent order can be received."))
        return redirect(order)
    lines = [line for line in selectors.order_lines_with_received(order) if line.remaining > 0]
    form = forms.ReceptionForm(request.POST or None, lines=lines, initial={"received_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            reception = services.reception_record(
                order=order, lines=form.service_lines(), received_on=form.cleaned_data["received_on"],
                closes_order=form.cleaned_data["closes_order"], notes=form.cleaned_data["notes"],
                today=timezone.localdate(), by=request.user,
            )
        except (ValidationError, RuleViolation) as exc:
            add_service_errors(form, exc)
        else:
            flagged = sum(1 for line in reception.lines.all() if line.has_difference)
            if flagged:
                messages.warning(request, ngettext("Reception recorded; %(n)d line differs from the order.",
                                                   "Reception recorded; %(n)d lines differ from the order.", flagged) % {"n": flagged})
            else:
                messages.success(request, _("Reception recorded: everything as ordered."))
            return redirect(order)
    return render(request, "inventory/order_receive.html", {"order": order, "form": form})


@supply_required
def order_pdf(request, pk):
    order = get_object_or_404(PurchaseOrder.objects.select_related("supplier"), pk=pk)
    return _pdf(documents.purchase_order_pdf(order), f"{order.reference}.pdf")


# --- imports ----------------------------------------------------------------------------------

@supply_required
def sales_import(request):
    form = forms.SalesImportForm(request.POST or None, request.FILES or None)
    result = None
    status = 200
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            result = services.sales_import(
                content=forms.read_upload(upload), filename=upload.name, today=timezone.localdate(), by=request.user
            )
        except ValidationError as exc:
            form.add_error("file", exc.messages)
            status = 400  # the file is refused as a whole (with the line at fault): nothing imported
    history = SalesImport.objects.select_related("imported_by")[:20]
    return render(request, "inventory/sales_import.html", {"form": form, "result": result, "history": history}, status=status)


@supply_required
def sales_import_detail(request, pk):
    batch = get_object_or_404(SalesImport, pk=pk)
    return render(request, "inventory/sales_import_detail.html", {"batch": batch})


@supply_required
def catalogue_import(request):
    form = forms.CatalogueImportForm(request.POST or None, request.FILES or None, initial={"supplier": request.GET.get("supplier")})
    result = None
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            result = services.catalogue_import(
                supplier=form.cleaned_data["supplier"], content=forms.read_upload(form.cleaned_data["file"]), by=request.user
            )
        except ValidationError as exc:
            form.add_error("file", exc.messages)
            status = 400
    return render(request, "inventory/catalogue_import.html", {"form": form, "result": result}, status=status)


# --- shelf labels -----------------------------------------------------------------------------

def _label_products(request):
    data = request.POST if request.method == "POST" else request.GET
    ids = [int(pk) for pk in data.getlist("product") if pk.isdigit()]
    products = Product.objects.select_related("supplier").order_by("name", "id")
    if ids:
        return products.filter(pk__in=ids)
    return products.filter(active=True, label_needs_reprint=True)


@supply_required
def label_list(request):
    products = Product.objects.filter(active=True, label_needs_reprint=True).select_related("supplier", "category").order_by("name")
    return render(request, "inventory/labels.html", {"products": products})


@supply_required
def labels_pdf(request):
    """The shelf labels of the chosen products (`product`, by GET or by the labels page's POST),
    by default of every label to print. Printing changes nothing: marking them printed is a
    separate POST."""
    return _pdf(documents.shelf_labels_pdf(_label_products(request)), "labels.pdf")


@supply_required
@require_POST
def labels_printed(request):
    ids = [int(pk) for pk in request.POST.getlist("product") if pk.isdigit()]
    done = services.labels_mark_printed(products=Product.objects.filter(pk__in=ids))
    messages.success(request, ngettext("%(n)d label marked as printed.", "%(n)d labels marked as printed.", done) % {"n": done})
    return redirect("inventory:labels")


# --- reports ----------------------------------------------------------------------------------

@supply_required
def reports(request):
    today = timezone.localdate()
    form = forms.ReportForm(request.GET or None)
    start, end = form.period(today)
    params = InventoryParameters.current()
    months = selectors.local_sourcing_by_month(start=start, end=end, params=params)
    bands = selectors.sourcing_by_distance_band(start=start, end=end, params=params)
    losses = selectors.losses_by_month(start=start, end=end)
    stock_values = selectors.stock_value_by_category()
    share_chart = charts.bar_chart(
        [charts.Bar(m.month.strftime("%m/%Y"), m.share or Decimal(0), f"{m.share} %" if m.share is not None else "–") for m in months],
        title=_("Share of purchases from local suppliers, per month"), maximum=Decimal(100), axis_suffix=" %",
    )
    lower_bounds = (0, *params.band_limits)
    band_chart = charts.bar_chart(
        [charts.Bar(b.label, b.value, euros(b.value), highlight=lower_bounds[i] >= params.local_distance_km)
         for i, b in enumerate(bands)],
        title=_("Purchases by distance of the supplier"), width=480,
    )
    loss_chart = charts.bar_chart(
        [charts.Bar(m.month.strftime("%m/%Y"), m.losses + m.count_shortfall, euros(m.losses + m.count_shortfall)) for m in losses],
        title=_("Losses per month (declared losses and stock missing at counts, at cost)"), width=480,
    )
    total_local = sum((m.local for m in months), Decimal(0))
    total = sum((m.total for m in months), Decimal(0))
    return render(request, "inventory/reports.html", {
        "form": form, "start": start, "end": end, "params": params, "months": months, "bands": bands, "losses": losses,
        "stock_values": stock_values, "stock_total": sum((row["value"] for row in stock_values), Decimal(0)),
        "share_chart": share_chart, "band_chart": band_chart, "loss_chart": loss_chart,
        "period_share": (total_local * 100 / total).quantize(Decimal("0.1")) if total else None,
        "period_total": total, "period_local": total_local,
    })
