from django.contrib import admin

from customers.models import Customer


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["user", "phone", "accepts_marketing", "created_at"]
    list_select_related = ["user"]
    search_fields = ["user__username", "user__email", "phone"]
