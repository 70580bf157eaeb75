"""tunelens: turn a picture into a soundtrack."""

__version__ = "0.1.0"
