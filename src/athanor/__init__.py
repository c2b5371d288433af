"""athanor: a fast database toolkit with a SQLAlchemy 2.x-compatible API."""

__version__ = "0.1.0"
