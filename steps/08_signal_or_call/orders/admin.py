from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect
from django.urls import path

from orders.models import Order
from products.exceptions import OutOfStock


class OrderAdminForm(forms.ModelForm):
    class Meta:
        model = Order
        fields = ["product", "quantity"]

    def clean(self):
        """Refuse to change an order that was confirmed while the form was open.

        The row stays locked until the admin's transaction ends, so a confirmation
        cannot slip in between this check and the save: it waits, then reads what
        was saved.
        """
        cleaned_data = super().clean()
        if self.instance.pk is not None:
            stored = Order.objects.select_for_update().filter(pk=self.instance.pk)
            if stored.values_list("confirmed", flat=True).get():
                raise forms.ValidationError(
                    "This order was confirmed meanwhile: a confirmed order cannot be changed."
                )
        return cleaned_data


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    """Orders are confirmed by Order.confirm(), from the list's action or the order's page.

    "confirmed" is read only: ticking a box and saving would skip the stock.
    """

    form = OrderAdminForm
    list_display = ["id", "product", "quantity", "total_price", "confirmed"]
    list_filter = ["confirmed"]
    list_select_related = ["product"]
    readonly_fields = ["total_price", "confirmed"]
    actions = ["confirm_orders"]

    def has_delete_permission(self, request, obj=None):
        # A confirmed order's stock is taken and its sale recorded: it stays.
        if obj is not None and obj.confirmed:
            return False
        return super().has_delete_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.confirmed:
            return ["product", "quantity", *self.readonly_fields]  # its stock is taken
        return self.readonly_fields

    @admin.action(description="Confirm selected orders", permissions=["change"])
    def confirm_orders(self, request, queryset):
        for order in queryset.order_by("pk"):
            self.confirm(request, order)

    def get_urls(self):
        confirm_view = self.admin_site.admin_view(self.confirm_view)
        return [
            path("<int:order_id>/confirm/", confirm_view, name="orders_order_confirm"),
            *super().get_urls(),
        ]

    def confirm_view(self, request, order_id):
        """The "Confirm this order" button of an order's page: a POST."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        order = get_object_or_404(Order, pk=order_id)
        if not self.has_change_permission(request, order):
            raise PermissionDenied
        self.confirm(request, order)
        return redirect("admin:orders_order_change", order.pk)

    def confirm(self, request, order):
        """Confirm one order, and say what happened in a message."""
        try:
            confirmed_now = order.confirm()
        except OutOfStock as shortage:
            self.message_user(
                request, f"Order {order.pk} was not confirmed: {shortage}.", messages.ERROR
            )
            return
        if confirmed_now:
            self.message_user(request, f"Order {order.pk} confirmed.", messages.SUCCESS)
        else:
            self.message_user(request, f"Order {order.pk} was already confirmed.", messages.INFO)
