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

        Without this, the post_save receiver's OutOfStock would surface as a 500.
        The admin validates inside its transaction, so the product row stays
        locked until the save has taken the stock.
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
