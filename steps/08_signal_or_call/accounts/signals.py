from django.apps import apps as global_apps
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import router
from django.db.models import Q
from django.dispatch import receiver

from accounts.models import LoginEvent

SHOP_STAFF = "Shop staff"
# (app label, model) of what the shop's staff manage: add, change, delete and view each.
SHOP_STAFF_MODELS = [("orders", "order"), ("products", "product"), ("products", "tag")]
# The username a failed login records when it names no user.
NO_SUCH_USER = "(no such user)"


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
    """Record whose account was tried, if it is anyone's."""
    user = user_tried(credentials)
    if user is None:
        # What was typed may be a password, typed into the wrong box.
        record(LoginEvent.Kind.LOGIN_FAILED, request, username=NO_SUCH_USER)
    else:
        record(LoginEvent.Kind.LOGIN_FAILED, request, user=user, username=user.get_username())


def user_tried(credentials):
    """The user the credentials name, looked up as ModelBackend does, or None."""
    UserModel = get_user_model()
    # AuthenticationForm passes username=, whatever USERNAME_FIELD is; other callers
    # may pass USERNAME_FIELD by its own name.
    username = credentials.get("username")
    if username is None:
        username = credentials.get(UserModel.USERNAME_FIELD)
    if username is None:
        return None
    try:
        return UserModel._default_manager.get_by_natural_key(username)
    except UserModel.DoesNotExist:
        return None


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
    try:
        Group = apps.get_model("auth", "Group")
        Permission = apps.get_model("auth", "Permission")
        # A model missing from apps has no table (after migrate auth zero) or no
        # permissions yet (after migrate auth on a new database): wait for a later run.
        for app_label, model in SHOP_STAFF_MODELS:
            apps.get_model(app_label, model)
    except LookupError:
        return
    if not (
        router.allow_migrate_model(using, Group) and router.allow_migrate_model(using, Permission)
    ):
        return  # A router keeps auth off this database.
    group, created = Group.objects.using(using).get_or_create(name=SHOP_STAFF)
    if created:
        managed = Q()
        for app_label, model in SHOP_STAFF_MODELS:
            managed |= Q(content_type__app_label=app_label, content_type__model=model)
        group.permissions.set(Permission.objects.using(using).filter(managed))
