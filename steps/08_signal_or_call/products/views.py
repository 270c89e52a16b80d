from django.db.models import Value
from django.db.models.functions import Lower
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from products.models import Product, Tag


@require_safe
def product_list(request):
    """The catalogue, optionally filtered by one tag: /products/?tag=<name>."""
    products = Product.objects.prefetch_related("tags").order_by("name")
    tag = None
    if tag_name := request.GET.get("tag"):
        # Folded as the unique constraint folds names: at most one tag matches.
        named_alike = Tag.objects.alias(folded_name=Lower("name"))
        tag = get_object_or_404(named_alike, folded_name=Lower(Value(tag_name)))
        products = products.filter(tags=tag)
    tags = Tag.objects.with_product_counts().filter(product_count__gt=0)
    context = {
        "products": products,
        "tags": tags.order_by("-product_count", "name"),
        "selected_tag": tag,
    }
    return render(request, "products/product_list.html", context)
