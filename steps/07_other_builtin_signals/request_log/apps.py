from django.apps import AppConfig


class RequestLogConfig(AppConfig):
    name = "request_log"

    def ready(self):
        from request_log import signals  # noqa: F401
