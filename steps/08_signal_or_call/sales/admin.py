from django.contrib import admin

from sales.models import Sale


@admin.register(Sale)
class SaleAdmin(admin.ModelAdmin):
    list_display = ["recorded_at", "product_name", "quantity", "total_price"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
