"""URL helpers shared by blueprints."""
from urllib.parse import urlsplit

from werkzeug.routing import IntegerConverter


class AsciiIntConverter(IntegerConverter):
    """``<int:...>`` that matches ASCII digits only (Werkzeug's accepts any Unicode digit)."""

    regex = r"[0-9]{1,18}"


def safe_next_url(target: str | None) -> str | None:
    """Return ``target`` only when it is a path on this site (no scheme, host or ``//``)."""
    if not target or len(target) > 2000:
        return None
    if any(ch in target for ch in "\\\r\n\t"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target
