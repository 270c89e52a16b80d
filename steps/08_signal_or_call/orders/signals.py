from django.dispatch import Signal

# Sent once an order's confirmation is committed, with send_robust: for apps the
# orders app does not know. Arguments: order. Sender: the Order class.
order_confirmed = Signal()
