from django.apps import AppConfig


class ThriftConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "thrift"
    verbose_name = "Thrift"
