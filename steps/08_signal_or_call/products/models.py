from django.db import models
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Coalesce, Lower


class TagQuerySet(models.QuerySet):
    def with_product_counts(self):
        """Each tag with product_count, its number of products, counted in this query.

        A subquery on the link table counts them, so that a filter on products, before
        or after this, picks tags without changing their counts. Count("products")
        would join the products into the query: a filter(products__...) after it joins
        them again and multiplies the count, and one before it limits what it counts.
        """
        links = Product.tags.through.objects.filter(tag=OuterRef("pk")).values("tag")
        count = links.annotate(total=models.Count("*")).values("total")
        return self.annotate(product_count=Coalesce(Subquery(count), 0))


class Tag(models.Model):
    name = models.CharField(max_length=50)

    objects = TagQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="tag_name_unique_ignoring_case",
                violation_error_message="A tag with this name already exists.",
            ),
        ]

    def __str__(self):
        return self.name


class Product(models.Model):
    name = models.CharField(max_length=100)
    description = models.TextField()
    price = models.DecimalField(max_digits=10, decimal_places=2)
    quantity = models.PositiveIntegerField(default=0)
    image = models.ImageField(upload_to="products/", blank=True)
    tags = models.ManyToManyField(Tag, related_name="products", blank=True)

    def __str__(self):
        return self.name
