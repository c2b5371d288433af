"""Database URLs: parse, build, update and render ``dialect[+driver]://...`` strings."""

from athanor.url.url import URL, make_url, mask_password_in_text

__all__ = ["URL", "make_url", "mask_password_in_text"]
