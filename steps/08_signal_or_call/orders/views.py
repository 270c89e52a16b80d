from http import HTTPStatus

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from orders.models import Order
from products.exceptions import OutOfStock
from products.models import Product


@require_GET
def order_list(request):
    context = {
        "products": Product.objects.order_by("name"),
        "orders": Order.objects.select_related("product").order_by("pk"),
    }
    return render(request, "orders/order_list.html", context)


@require_POST
def confirm_order(request, order_id):
    order = get_object_or_404(Order.objects.select_related("product"), pk=order_id)
    try:
        confirmed_now = order.confirm()
    except OutOfStock as shortage:
        text = f"Order {order_id} was not confirmed: {shortage}."
        return reply(request, text, messages.ERROR, status=HTTPStatus.CONFLICT)
    if not confirmed_now:
        return reply(request, f"Order {order.pk} was already confirmed.", messages.INFO)
    return reply(request, f"Order {order_id} confirmed successfully.", messages.SUCCESS)


def reply(request, text, level, status=HTTPStatus.OK):
    """Send a form back to its page with a message; answer other clients in plain text."""
    next_url = request.POST.get("next")
    if next_url and url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        messages.add_message(request, level, text)
        return redirect(next_url)
    return HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")
