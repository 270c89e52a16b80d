from django.contrib import admin

from orders.models import Order


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["id", "product", "quantity", "total_price", "confirmed"]
    list_filter = ["confirmed"]
    list_select_related = ["product"]
    readonly_fields = ["total_price"]
