"""``tunelens eval`` is a group now: the labelled-folder form keeps working as documented, and
the quality subcommands sit beside it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.labelled_pictures import labelled_folder
from tunelens.cli.app import main


def test_eval_images_task_still_works(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = labelled_folder(tmp_path / "labelled", n=4)
    args = ["eval", "--images", str(folder), "--task", "emotion", "--encoder", "colour"]
    assert main([*args, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["kind"] == "evaluation" and report["task"] == "emotion"
    assert report["images"] == 8 and report["head"]["kind"] == "colour"
    assert main(args) == 0
    assert "majority" in capsys.readouterr().out


def test_eval_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval"]) == 2
    assert "--images" in capsys.readouterr().err
    assert main(["eval", "--images", "x", "--task", "colour"]) == 2
    capsys.readouterr()
    assert main(["eval", "--help"]) == 0
    listing = capsys.readouterr().out
    assert "affect" in listing and "moods" in listing and "--images" in listing
    assert main(["eval", "affect", "--images", "x"]) == 2  # --ratings is required
