"""salesbot: a self-hosted sales-qualification chat bot."""

__version__ = "0.1.0"
