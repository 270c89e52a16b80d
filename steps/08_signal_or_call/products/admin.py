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

    def get_queryset(self, request):
        return super().get_queryset(request).with_product_counts()

    @admin.display(ordering="product_count")
    def product_count(self, tag):
        return tag.product_count
