class OutOfStock(Exception):
    """A product has fewer items in stock than an order asks for."""

    def __init__(self, product, requested):
        self.product = product
        self.requested = requested
        self.available = product.quantity
        super().__init__(
            f"not enough {product.name} in stock: {requested} requested, "
            f"{self.available} available (short by {self.shortage})"
        )

    @property
    def shortage(self):
        return self.requested - self.available
