from django.apps import apps as global_apps
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models import Q
from django.dispatch import receiver

from accounts.models import LoginEvent

SHOP_STAFF = "Shop staff"
# (app label, model) of what the shop's staff manage: add, change, delete and view each.
SHOP_STAFF_MODELS = [("orders", "order"), ("products", "product"), ("products", "tag")]


@receiver(user_logged_in, dispatch_uid="log_login")
def log_login(sender, request, user, **kwargs):
    record(LoginEvent.Kind.LOGGED_IN, request, user=user, username=user.get_username())


@receiver(user_logged_out, dispatch_uid="log_logout")
def log_logout(sender, request, user, **kwargs):
    # Logging out without being logged in sends the signal too, with user=None.
    if user is not None:
        record(LoginEvent.Kind.LOGGED_OUT, request, user=user, username=user.get_username())


@receiver(user_login_failed, dispatch_uid="log_failed_login")
def log_failed_login(sender, credentials, request, **kwargs):
    """Record the username tried. authenticate() has already masked the password."""
    username = credentials.get(get_user_model().USERNAME_FIELD, "")
    record(LoginEvent.Kind.LOGIN_FAILED, request, username=username)


def record(kind, request, **fields):
    # authenticate() may be called without a request, and then sends request=None.
    ip_address = request.META.get("REMOTE_ADDR") if request is not None else None
    LoginEvent.objects.create(kind=kind, ip_address=ip_address or None, **fields)


def create_shop_staff_group(sender, using, apps=global_apps, **kwargs):
    """Create the "Shop staff" group, with its permissions, if the database lacks it.

    migrate sends post_migrate after every run, so this runs again and again: it
    creates the group once and then leaves it, and any change an admin makes to it,
    alone. migrate passes ``apps``, the models as its migrations left them; flush
    sends the signal without it, hence the default.
    """
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, created = Group.objects.using(using).get_or_create(name=SHOP_STAFF)
    if created:
        managed = Q()
        for app_label, model in SHOP_STAFF_MODELS:
            managed |= Q(content_type__app_label=app_label, content_type__model=model)
        group.permissions.set(Permission.objects.using(using).filter(managed))
