from django.contrib import admin

from products.models import Product, Tag


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "price", "quantity"]
    list_filter = ["tags"]
    search_fields = ["name"]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "product_count"]
    search_fields = ["name"]
