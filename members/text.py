"""Text helpers for search."""
import unicodedata


def search_key(text: str) -> str:
    """Lower-case, accent-free, single-spaced: 'Hélène  Dupré' -> 'helene dupre'."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.casefold().split())
