from django.contrib import admin

from accounts.models import LoginEvent


@admin.register(LoginEvent)
class LoginEventAdmin(admin.ModelAdmin):
    """The audit log: read only, since an audit log nobody can edit is worth more."""

    list_display = ["happened_at", "kind", "username", "ip_address"]
    list_filter = ["kind"]
    search_fields = ["username", "ip_address"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        # Also takes "Delete selected" out of the list's actions.
        return False
