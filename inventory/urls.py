from django.urls import path

from . import views

app_name = "inventory"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("suppliers/", views.SupplierListView.as_view(), name="supplier_list"),
    path("suppliers/new/", views.supplier_create, name="supplier_create"),
    path("suppliers/<int:pk>/edit/", views.supplier_edit, name="supplier_edit"),
    path("products/", views.ProductListView.as_view(), name="product_list"),
    path("products/new/", views.product_create, name="product_create"),
    path("products/<int:pk>/", views.product_detail, name="product_detail"),
    path("products/<int:pk>/edit/", views.product_edit, name="product_edit"),
    path("categories/", views.categories, name="categories"),
    path("categories/<int:pk>/", views.category_edit, name="category_edit"),
    path("counts/", views.counts, name="counts"),
    path("counts/<int:pk>/", views.count_detail, name="count_detail"),
    path("reorder/", views.reorder, name="reorder"),
    path("orders/", views.OrderListView.as_view(), name="order_list"),
    path("orders/new/", views.order_create, name="order_create"),
    path("orders/<int:pk>/", views.order_detail, name="order_detail"),
    path("orders/<int:pk>/receive/", views.order_receive, name="order_receive"),
    path("orders/<int:pk>/order.pdf", views.order_pdf, name="order_pdf"),
    path("imports/sales/", views.sales_import, name="sales_import"),
    path("imports/sales/<int:pk>/", views.sales_import_detail, name="sales_import_detail"),
    path("imports/catalogue/", views.catalogue_import, name="catalogue_import"),
    path("labels/", views.label_list, name="labels"),
    path("labels.pdf", views.labels_pdf, name="labels_pdf"),
    path("labels/printed/", views.labels_printed, name="labels_printed"),
    path("reports/", views.reports, name="reports"),
]
