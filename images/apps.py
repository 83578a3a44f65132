from django.apps import AppConfig


class ImagesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "images"
    verbose_name = "Images"

    def ready(self) -> None:
        from images import signals  # noqa: F401  (connects the receivers)
