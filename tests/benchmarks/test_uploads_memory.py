"""``python -m benchmarks.uploads_memory`` measures what the issue measured: its picture is
tiny on disk and huge decoded, and it reads a process's memory from /proc. (The run itself,
a server and 8 uploads of 119 MB decoded each, is not part of the suite.)"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from benchmarks.uploads_memory import SIDE, big_flat_png, rss_mb
from PIL import Image


def test_the_picture_is_small_on_disk_and_large_decoded() -> None:
    data = big_flat_png()
    assert len(data) < 200 * 1024  # ~120 KB, like the 116 KB picture
    with Image.open(io.BytesIO(data)) as img:
        assert img.size == (SIDE, SIDE) and img.mode == "RGB"  # 119 MB of pixels


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_rss_is_read_from_proc() -> None:
    now, peak = rss_mb(os.getpid()), rss_mb(os.getpid(), "VmHWM")
    assert 10 < now <= peak < 100_000
