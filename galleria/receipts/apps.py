from django.apps import AppConfig


class ReceiptsConfig(AppConfig):
    name = "galleria.receipts"
    label = "receipts"

    def ready(self) -> None:
        from . import checks  # noqa: F401 - registers the OCR model check
