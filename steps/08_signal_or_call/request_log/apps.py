from django.apps import AppConfig


class RequestLogConfig(AppConfig):
    name = "request_log"
