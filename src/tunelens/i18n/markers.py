"""The no-op markers Babel extracts: a message marked here is translated where it is shown.

They live apart from the translator so the label tables can mark their names without
importing the translator that later reads them.
"""

from __future__ import annotations


def N_(message: str) -> str:  # noqa: N802 (the gettext convention Babel extracts)
    """Mark ``message`` for extraction without translating it now (translated where shown)."""
    return message


def NP_(context: str, message: str) -> str:  # noqa: N802
    """:func:`N_` with a ``msgctxt``: the same English word can need different translations
    ("calm" the arousal level and "calm" the playlist mood)."""
    return message
