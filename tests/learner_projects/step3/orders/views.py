from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render

from orders.models import Order
from orders.signals import order_confirmed
from products.exceptions import OutOfStock
from products.models import Product


def order_list(request):
    return render(
        request,
        "orders/list.html",
        {
            "products": Product.objects.all(),
            "orders": Order.objects.select_related("product"),
        },
    )


def answer(request, text, status):
    if request.POST.get("next"):
        if status == 200:
            messages.success(request, text)
        else:
            messages.error(request, text)
        return redirect("order_list")
    return HttpResponse(text, status=status)


def confirm_order(request, order_id):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        with transaction.atomic():
            try:
                order = Order.objects.select_for_update().get(id=order_id)
            except Order.DoesNotExist:
                raise Http404("No such order") from None
            if order.confirmed:
                return answer(request, f"Order {order_id} was already confirmed.", 200)
            order.confirmed = True
            order.save()
            order_confirmed.send(sender=Order, order=order)
    except OutOfStock as problem:
        return answer(request, f"Could not confirm order {order_id}: {problem}", 409)
    return answer(request, f"Order {order_id} confirmed successfully.", 200)
