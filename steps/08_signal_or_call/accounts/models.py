from django.conf import settings
from django.db import models


class LoginEvent(models.Model):
    """One line of the audit log: a login, a logout or a failed login."""

    class Kind(models.TextChoices):
        LOGGED_IN = "logged_in", "logged in"
        LOGGED_OUT = "logged_out", "logged out"
        LOGIN_FAILED = "login_failed", "login failed"

    kind = models.CharField(max_length=12, choices=Kind)
    # A failed login has a user only when the username typed is someone's.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    username = models.CharField(max_length=150)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    happened_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-happened_at", "-pk"]

    def __str__(self):
        return f"{self.username} {self.get_kind_display()}"
