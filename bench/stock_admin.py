"""The stock configuration: the same models in a plain Django admin.

Each of our admin classes is mirrored by a plain `ModelAdmin` with the same
`list_display`, `list_filter` (the group filter as Django's own select of
every group), `search_fields`, `date_hierarchy` and read-only fields, the
default paginator and full result counts, and no `list_select_related`:
what a first cut of the admin looks like. The bench serves it at /stock/
beside the real admin, so each page is measured side by side.
"""

from django.contrib import admin

# Attributes that describe what a page shows rather than how it is fetched.
COPIED = (
    "list_display",
    "search_fields",
    "date_hierarchy",
    "readonly_fields",
    "fieldsets",
    "ordering",
    "list_per_page",
)


@admin.display(description="places")
def _stock_places(self, obj):
    # Ours counts places in the list's query; a first cut counts per row.
    return obj.memberships.filter(left_at=None).count()


# Columns of ours that read an annotation of our queryset.
STOCK_COLUMNS = {"places": _stock_places}


def _stock_filter(entry):
    """Our filters that stand in for a related-field filter name the field
    they replace (`field_path`); the stock admin uses Django's filter."""
    if isinstance(entry, str):
        return entry
    if isinstance(entry, tuple):
        return entry[0]
    return getattr(entry, "stock_field", entry)


def stock_admin_class(model_admin) -> type:
    """A plain ModelAdmin showing the same columns as `model_admin`."""
    attrs = {name: getattr(model_admin, name) for name in COPIED}
    attrs["list_filter"] = tuple(_stock_filter(f) for f in model_admin.list_filter)
    # Columns computed by methods of our admin: copy the functions.
    for name in model_admin.list_display:
        if isinstance(name, str) and not hasattr(admin.ModelAdmin, name):
            func = STOCK_COLUMNS.get(name) or getattr(type(model_admin), name, None)
            if callable(func):
                attrs[name] = func
    if model_admin.fieldsets is None:
        attrs.pop("fieldsets")
    name = f"Stock{type(model_admin).__name__}"
    return type(name, (admin.ModelAdmin,), attrs)


class StockAdminSite(admin.AdminSite):
    site_header = "Thrift MS (stock admin)"


def build_stock_site(source=None) -> StockAdminSite:
    """Mirror every thrift and accounts model of `source` (the real site)."""
    source = source or admin.site
    site = StockAdminSite(name="stock")
    for model, model_admin in source._registry.items():
        if model._meta.app_label not in {"thrift", "accounts"}:
            continue
        site.register(model, stock_admin_class(model_admin))
    return site


stock_site = build_stock_site()
