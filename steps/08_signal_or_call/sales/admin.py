from django.contrib import admin

from sales.models import Sale


@admin.register(Sale)
class SaleAdmin(admin.ModelAdmin):
    """The sales log: read only. Only the record_sale task writes it."""

    list_display = ["recorded_at", "order_number", "product_name", "quantity", "total_price"]
    search_fields = ["product_name"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        # Also takes "Delete selected" out of the list's actions.
        return False
