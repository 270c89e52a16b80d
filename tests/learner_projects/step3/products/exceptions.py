class OutOfStock(Exception):
    def __init__(self, product, requested):
        self.product = product
        shortage = requested - product.quantity
        super().__init__(
            f"not enough {product.name} in stock: {requested} requested, "
            f"{product.quantity} available (short by {shortage})"
        )
