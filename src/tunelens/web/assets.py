"""Where the page's files live: ``templates/`` and ``static/`` beside this module.

Named once so the app factory (the ``/static`` mount), the template renderer and the page
script's text extractor cannot disagree about a path after a move; the deploy docs read
:data:`STATIC_DIR` (through :mod:`tunelens.web.app`) to point nginx at the files.
"""

from __future__ import annotations

from pathlib import Path

WEB_DIR = Path(__file__).parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"
#: the page script whose marked strings are translated on the server (see page_texts)
PAGE_SCRIPT = STATIC_DIR / "app.js"
