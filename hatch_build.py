"""Hatch build hook: compile the gettext catalogues (``.po`` → ``.mo``) before every build.

The ``.mo`` files are build products (gitignored, never edited by hand), so a wheel built
from a clean clone must make them itself. Babel is a build requirement (pyproject.toml).
The compile step is the same one ``python -m tunelens.i18n.catalogs compile`` runs, written
out here because the package itself is not importable while it is being built.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class CompileCatalogues(BuildHookInterface):  # type: ignore[misc]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        locales = Path(self.root) / "src" / "tunelens" / "locales"
        for po in sorted(locales.glob("*/LC_MESSAGES/messages.po")):
            with po.open("rb") as handle:
                catalog = read_po(handle, locale=po.parent.parent.name, domain="messages")
            buffer = io.BytesIO()
            write_mo(buffer, catalog, use_fuzzy=False)
            po.with_suffix(".mo").write_bytes(buffer.getvalue())
