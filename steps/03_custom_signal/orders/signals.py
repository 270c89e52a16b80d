from django.dispatch import Signal

# Sent by orders.views.confirm_order once an order is marked confirmed, inside the
# same transaction. Arguments: sender=Order, order=<the Order>. A receiver may raise
# to stop the confirmation; the whole transaction then rolls back.
order_confirmed = Signal()
