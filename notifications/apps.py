from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        # Registers the outbox handlers: "email", and the follower fan-out and batches.
        from notifications import handlers, mail  # noqa: F401
