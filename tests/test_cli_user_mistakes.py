"""A user's mistakes met in QA, each checked in-process: exit code 2, a message naming
the thing and what to do, no traceback, nothing half-written."""

from __future__ import annotations

import os
import stat

import pytest

from cli_fixtures import CONFIG, derive_predictions, make_fake, write_tree
from imagenets_hf.cli import main


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("mistakes")
    data = make_fake(str(tmp_path))
    data["prediction_dir"] = write_tree(str(tmp_path / "predictions"), derive_predictions(data["masks"]))
    return data


def _evaluate(fake, *extra, predictions=None, ground_truth=None):
    return main(["evaluate", CONFIG, "-p", predictions or fake["prediction_dir"],
                 "-g", ground_truth or fake["annotations"], "--metadata-dir", fake["metadata_dir"],
                 "--workers", "1", "--no-progress", *extra])


@pytest.mark.parametrize("option", [["--json"], ["--match", "image", "--save-match"]])
def test_output_path_that_is_an_existing_folder(fake, tmp_path, capsys, option):
    folder = tmp_path / "results"
    folder.mkdir()
    assert _evaluate(fake, *option, str(folder)) == 2
    error = capsys.readouterr().err
    assert f"imagenets-hf evaluate: error: {folder} is a folder: give the path of a file to write" in error
    assert "Traceback" not in error
    assert sorted(os.listdir(tmp_path)) == ["results"] and not os.listdir(folder)  # no temporary left


def test_match_output_that_is_a_folder(fake, tmp_path, capsys):
    code = main(["match", CONFIG, "-p", fake["prediction_dir"], "-g", fake["annotations"],
                 "--metadata-dir", fake["metadata_dir"], "--workers", "1", "-o", str(tmp_path)])
    assert code == 2
    assert f"imagenets-hf match: error: {tmp_path} is a folder" in capsys.readouterr().err


def test_outputs_are_readable_by_others_like_plain_files(fake, tmp_path, capsys):
    umask = os.umask(0o022)
    try:
        out, match = tmp_path / "r.json", tmp_path / "m.json"
        assert _evaluate(fake, "--json", str(out), "--match", "image", "--save-match", str(match)) == 0
    finally:
        os.umask(umask)
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o644
    assert stat.S_IMODE(os.stat(match).st_mode) == 0o644
