from django.dispatch import Signal

order_confirmed = Signal()
