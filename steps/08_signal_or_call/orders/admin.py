from django import forms
from django.contrib import admin

from orders.models import Order
from products.models import Product


class OrderAdminForm(forms.ModelForm):
    class Meta:
        model = Order
        fields = ["product", "quantity", "confirmed"]

    def clean(self):
        """Refuse to tick "confirmed" when the stock cannot cover the order.

        Without this, Order.confirm()'s OutOfStock would surface as a 500. The
        admin validates inside its transaction, so the product row stays locked
        until the save has taken the stock.
        """
        cleaned_data = super().clean()
        product, quantity = cleaned_data.get("product"), cleaned_data.get("quantity")
        confirming = cleaned_data.get("confirmed") and "confirmed" in self.changed_data
        if confirming and product and quantity:
            in_stock = Product.objects.select_for_update().get(pk=product.pk).quantity
            if in_stock < quantity:
                raise forms.ValidationError(
                    f"Not enough {product.name} in stock to confirm: "
                    f"{quantity} needed, {in_stock} available."
                )
        return cleaned_data


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    form = OrderAdminForm
    list_display = ["id", "product", "quantity", "total_price", "confirmed"]
    list_filter = ["confirmed"]
    list_select_related = ["product"]
    readonly_fields = ["total_price"]

    def save_model(self, request, obj, form, change):
        """Save the order; a tick in "confirmed" goes through Order.confirm()."""
        confirming = obj.confirmed and "confirmed" in form.changed_data
        if confirming:
            obj.confirmed = False  # confirm() sets it, with the stock taken
        super().save_model(request, obj, form, change)
        if confirming:
            obj.confirm()
