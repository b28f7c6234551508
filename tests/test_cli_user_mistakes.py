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


def _damage_first_member(source: str, target: str) -> str:
    """A copy of a stored (uncompressed) zip with one byte of its first PNG flipped: a CRC error on reading."""
    data = bytearray(open(source, "rb").read())
    position = data.index(b"IHDR") + 8
    data[position] ^= 0xFF
    with open(target, "wb") as file:
        file.write(bytes(data))
    return target


def test_damaged_annotation_zip_when_evaluating(fake, tmp_path, capsys):
    damaged = _damage_first_member(fake["annotations"], str(tmp_path / "ImageNetS50.zip"))
    assert _evaluate(fake, ground_truth=damaged) == 2
    error = capsys.readouterr().err
    assert f"imagenets-hf evaluate: error: {damaged}:ImageNetS50/validation-segmentation/" in error
    assert "the zip is damaged (Bad CRC-32" in error and f"copy or download {damaged} again" in error


def test_damaged_annotation_zip_when_preparing(tmp_path, capsys):
    from imagenets_hf import testing

    setup = testing.make_fake_setup(str(tmp_path), CONFIG)
    damaged = _damage_first_member(setup.annotations, str(tmp_path / "damaged.zip"))
    code = main(["prepare", CONFIG, "--imagenet-dir", setup.imagenet_dir, "--annotations", damaged,
                 "--metadata-dir", setup.metadata_dir, "--cache-dir", str(tmp_path / "cache"), "--no-progress"])
    assert code == 2
    error = capsys.readouterr().err
    assert f"imagenets-hf prepare: error: {damaged}!ImageNetS50/" in error
    assert "the zip is damaged (Bad CRC-32" in error and "ImageNetS50-a0fe9d82231f9bc4787ee76e304dfa51.zip again" in error
    assert "Traceback" not in error


def test_annotations_of_another_config_are_refused(fake, tmp_path, capsys):
    # config 300's masks carry config 300's class ids: scoring them as config 50 would be silently wrong
    import zipfile

    from imagenets_hf import testing

    other = testing.make_fake_annotations(str(tmp_path / "ImageNetS300.zip"), fake["metadata_dir"], "300")
    assert _evaluate(fake, ground_truth=other) == 2
    assert (f"imagenets-hf evaluate: error: {other} holds the annotations of config 300 (ImageNetS300/), "
            "whose masks use that config's class ids; give the annotations of config 50") in capsys.readouterr().err
    with zipfile.ZipFile(other) as archive:
        archive.extractall(tmp_path / "extracted")
    for folder in (tmp_path / "extracted", tmp_path / "extracted" / "ImageNetS300"):
        assert _evaluate(fake, ground_truth=str(folder)) == 2
        assert f"error: {folder} holds the annotations of config 300" in capsys.readouterr().err


class _ClosedPipe:
    """sys.stdout once the reader of a pipe (`| head`) has exited."""

    def write(self, text):
        raise BrokenPipeError(32, "Broken pipe")

    def flush(self):
        raise BrokenPipeError(32, "Broken pipe")


def test_output_piped_into_a_reader_that_stops_early(fake, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdout", _ClosedPipe())
    assert _evaluate(fake) == 141
    assert capsys.readouterr().err == ""


def test_match_file_that_leaves_predicted_labels_unmapped(fake, tmp_path, capsys):
    # no "0" (background is mapped to 0 anyway) and labels 3.. missing: their pixels become void, said aloud
    import json

    match = tmp_path / "partial.json"
    match.write_text(json.dumps({"1": 1, "2": 2}))
    assert _evaluate(fake, "--match", str(match)) == 0
    error = capsys.readouterr().err
    assert "labels that the matching does not map (3, 4, 5; counted as void: wrong for every class); " \
        "add them to the match file" in error
    full = tmp_path / "full.json"
    full.write_text(json.dumps({str(label): label for label in range(6)}))
    assert _evaluate(fake, "--match", str(full)) == 0
    assert "does not map" not in capsys.readouterr().err


@pytest.mark.parametrize("content", [b"", b"\x89PNG\r\n\x1a\nGARBAGE"])
def test_unreadable_prediction_message_has_no_python_object_noise(fake, tmp_path, capsys, content):
    import shutil

    predictions = tmp_path / "predictions"
    shutil.copytree(fake["prediction_dir"], predictions)
    first = sorted(fake["masks"])[0]
    (predictions / first).write_bytes(content)
    assert _evaluate(fake, predictions=str(predictions)) == 2
    error = capsys.readouterr().err
    assert (f"error: {predictions / first}: not a readable PNG (empty, truncated or not an image); "
            "re-save it as an RGB or single-channel PNG") in error
    assert "BytesIO" not in error


def test_truncated_zips_are_called_damaged(fake, tmp_path, capsys):
    data = open(fake["annotations"], "rb").read()
    truncated = tmp_path / "ImageNetS50.zip"
    truncated.write_bytes(data[: len(data) // 2])
    assert _evaluate(fake, ground_truth=str(truncated)) == 2
    assert (f"error: {truncated}: not a readable zip (truncated or damaged, e.g. an interrupted download or copy); "
            "copy or download it again") in capsys.readouterr().err
    assert _evaluate(fake, predictions=str(truncated)) == 2
    assert f"error: {truncated}: not a readable zip (truncated or damaged" in capsys.readouterr().err


def test_the_cache_folder_that_prepare_prints_is_a_prepared_dataset(tmp_path, capsys):
    import json
    import zipfile

    from imagenets_hf import testing

    setup = testing.make_fake_setup(str(tmp_path), CONFIG)
    assert main(["prepare", CONFIG, "--imagenet-dir", setup.imagenet_dir, "--annotations", setup.annotations,
                 "--metadata-dir", setup.metadata_dir, "--cache-dir", str(tmp_path / "cache"), "--json"]) == 0
    cache = json.loads(capsys.readouterr().out)["cache_dir"]
    predictions = tmp_path / "predictions"
    with zipfile.ZipFile(setup.annotations) as archive:
        for name in archive.namelist():
            if "/validation-segmentation/" in name:
                target = predictions / name.split("/validation-segmentation/", 1)[1]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(archive.read(name))
    assert main(["evaluate", CONFIG, "-p", str(predictions), "-g", cache, "--metadata-dir", setup.metadata_dir,
                 "--workers", "1", "--json", "-"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["num_images"] == 8 and document["scores"]["Acc"] == 100.0


def test_export_offers_the_allow_missing_that_its_error_suggests(tmp_path, capsys):
    import glob
    import json

    from imagenets_hf import testing

    setup = testing.make_fake_setup(str(tmp_path), CONFIG)
    os.unlink(sorted(glob.glob(os.path.join(setup.imagenet_dir, "val", "*", "*.JPEG")))[0])
    command = ["export", CONFIG, "-o", str(tmp_path / "out"), "--imagenet-dir", setup.imagenet_dir,
               "--annotations", setup.annotations, "--metadata-dir", setup.metadata_dir,
               "--cache-dir", str(tmp_path / "cache"), "--no-progress", "--json"]
    assert main(command) == 2
    assert "(CLI: --allow-missing) to skip these examples" in capsys.readouterr().err
    assert main(command + ["--allow-missing"]) == 0
    captured = capsys.readouterr()
    splits = json.loads(captured.out)["configs"][CONFIG]
    assert splits["validation"]["num_examples"] + splits["test"]["num_examples"] == 15


def test_warnings_are_one_plain_line_without_source_or_log_repeats(tmp_path, capsys):
    import glob

    from imagenets_hf import testing

    setup = testing.make_fake_setup(str(tmp_path), CONFIG)
    missing = sorted(glob.glob(os.path.join(setup.imagenet_dir, "val", "*", "*.JPEG")))[0]
    os.unlink(missing)
    assert main(["prepare", CONFIG, "--imagenet-dir", setup.imagenet_dir, "--annotations", setup.annotations,
                 "--metadata-dir", setup.metadata_dir, "--cache-dir", str(tmp_path / "cache"),
                 "--no-progress", "--allow-missing"]) == 0
    error = capsys.readouterr().err
    assert error.startswith("imagenets-hf prepare: warning: skipping 1 missing file(s) of ImageNet-S config 50")
    assert error.count("skipping 1 missing file(s)") == 1 and error.count(missing) == 1
    assert "UserWarning" not in error and "plan_examples(" not in error


def test_no_progress_bars_when_stderr_is_not_a_terminal(tmp_path, capsys):
    # the convention of evaluate, now also prepare's and export's: logs and CI output stay free of bars
    from imagenets_hf import testing

    setup = testing.make_fake_setup(str(tmp_path), CONFIG)
    sources = ["--imagenet-dir", setup.imagenet_dir, "--annotations", setup.annotations,
               "--metadata-dir", setup.metadata_dir, "--cache-dir", str(tmp_path / "cache")]
    assert main(["prepare", CONFIG, *sources]) == 0
    assert main(["export", CONFIG, "-o", str(tmp_path / "out"), *sources]) == 0
    out, error = capsys.readouterr()
    assert 'config "50": train 12 (1 shard), train_semi 8 (1 shard), validation 8 (1 shard), test 8 (1 shard);' in out
    assert "Generating" not in error and "Exporting" not in error and "it/s" not in error
    assert error == ""


def test_prediction_folder_given_too_high_or_empty(fake, tmp_path, capsys):
    import shutil

    deep = tmp_path / "runs" / "exp1" / "predictions"
    shutil.copytree(fake["prediction_dir"], deep)
    assert _evaluate(fake, predictions=str(tmp_path / "runs")) == 2
    first = sorted(fake["masks"])[0]
    assert (f"error: {tmp_path / 'runs'}/ holds no <wnid>/<name>.png prediction, but {deep / first} exists: "
            f"pass the folder above its <wnid>/ folders as --predictions ({deep})") in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert _evaluate(fake, predictions=str(tmp_path / "empty")) == 2
    assert (f"error: {tmp_path / 'empty'}/ holds no prediction file: write one <wnid>/<name>.png per image to "
            f"evaluate (8 images, e.g. {first}, ") in capsys.readouterr().err


def test_show_output_dir_that_is_a_file(fake, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    target = tmp_path / "plot.png"
    target.write_bytes(b"mine")
    code = main(["show", CONFIG, "-p", fake["prediction_dir"], "-g", fake["annotations"], "--metadata-dir",
                 fake["metadata_dir"], "--workers", "1", "-o", str(target)])
    assert code == 2
    assert (f"imagenets-hf show: error: --output-dir {target} is a file: give a folder (it is created if needed)"
            in capsys.readouterr().err)
    assert target.read_bytes() == b"mine"


def test_metadata_folder_from_the_environment_is_named_as_such(fake, tmp_path, monkeypatch, capsys):
    gone = str(tmp_path / "moved-away")
    monkeypatch.setenv("IMAGENETS_METADATA_DIR", gone)
    code = main(["evaluate", CONFIG, "-p", fake["prediction_dir"], "-g", fake["annotations"], "--workers", "1"])
    assert code == 2
    assert (f"error: metadata folder not found: {gone} (from env IMAGENETS_METADATA_DIR); fix or unset "
            "IMAGENETS_METADATA_DIR, or give --metadata-dir") in capsys.readouterr().err


def test_a_file_where_a_folder_is_expected(tmp_path, capsys):
    from imagenets_hf import testing

    metadata_dir = testing.make_fake_metadata(str(tmp_path / "metadata"))
    archive = tmp_path / "ILSVRC2012_img_val.tar"
    archive.write_bytes(b"")
    assert main(["prepare", CONFIG, "--imagenet-dir", str(archive), "--metadata-dir", metadata_dir,
                 "--cache-dir", str(tmp_path / "cache"), "--no-progress"]) == 2
    assert (f"imagenets-hf prepare: error: --imagenet-dir {archive} is a file, not a folder: give the folder "
            "that holds train/ and val/") in capsys.readouterr().err
    readme = tmp_path / "README.md"
    readme.write_text("---\n---\n")
    assert main(["push", str(readme), "--repo-id", "me/data", "--dry-run"]) == 2
    assert (f"imagenets-hf push: error: {readme} is not an exported ImageNet-S folder: it is a file; give the "
            "folder that holds README.md") in capsys.readouterr().err


def _load_reporting_sigint(item):
    """A `load` for accumulate that fails unless this (worker) process ignores Ctrl-C."""
    import signal

    import numpy as np

    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        raise ValueError("worker handles SIGINT")
    labels = np.zeros((2, 2), dtype=np.uint16)
    return labels, labels


def test_workers_leave_ctrl_c_to_the_main_process():
    # Ctrl-C hits the whole process group: workers that also handle it each print a traceback
    from imagenets_hf._parallel import parallel_map
    from imagenets_hf.evaluation import accumulate

    # 40 items = 3 chunks of 16: enough for two worker processes (fewer items run in-process)
    assert accumulate(list(range(40)), 5, load=_load_reporting_sigint, num_workers=2).num_images == 40
    assert len(list(parallel_map(_load_reporting_sigint, range(4), num_workers=2))) == 4


def test_prepared_dataset_of_another_config_is_refused(tmp_path, capsys):
    # config 300's export holds every config-50 image, with masks in config 300's class ids
    import zipfile

    from imagenets_hf import testing

    setup = testing.make_fake_setup(str(tmp_path), "300")
    assert main(["export", "300", "-o", str(tmp_path / "out"), "--imagenet-dir", setup.imagenet_dir,
                 "--annotations", setup.annotations, "--metadata-dir", setup.metadata_dir,
                 "--cache-dir", str(tmp_path / "cache")]) == 0
    predictions = tmp_path / "predictions"
    with zipfile.ZipFile(testing.make_fake_annotations(str(tmp_path / "a50"), setup.metadata_dir, "50")) as archive:
        for name in archive.namelist():
            if "/validation-segmentation/" in name:
                target = predictions / name.split("/validation-segmentation/", 1)[1]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(archive.read(name))
    capsys.readouterr()
    code = main(["evaluate", CONFIG, "-p", str(predictions), "-g", str(tmp_path / "out" / "300"),
                 "--metadata-dir", setup.metadata_dir, "--workers", "1"])
    assert code == 2
    assert (f"error: {tmp_path / 'out' / '300'} (split 'validation') is a dataset of 6 classes, not of config 50 "
            "(4 classes): its masks use other class ids; give the dataset prepared for config 50") \
        in capsys.readouterr().err


def test_demo_workdir_that_is_a_file(tmp_path, capsys):
    target = tmp_path / "notes.txt"
    target.write_text("mine")
    assert main(["demo", "--workdir", str(target)]) == 2
    assert (f"imagenets-hf demo: error: --workdir {target} is a file: give a folder (it is created if needed)"
            in capsys.readouterr().err)
    assert target.read_text() == "mine"


def test_an_output_below_a_file_says_a_file_is_in_the_way(fake, tmp_path, capsys):
    blocker = tmp_path / "results.zip"
    blocker.write_bytes(b"mine")
    assert _evaluate(fake, "--json", str(blocker / "out.json")) == 2
    assert (f"imagenets-hf evaluate: error: cannot create the folder {blocker}: a file of that name is in the way; "
            "give another path") in capsys.readouterr().err
    assert _evaluate(fake, "--json", str(blocker / "deeper" / "out.json")) == 2
    assert (f"error: {blocker / 'deeper'}: part of that path is a file, not a folder; give another path"
            in capsys.readouterr().err)
    assert blocker.read_bytes() == b"mine"


def test_interrupted_evaluate_does_not_promise_to_resume(fake, monkeypatch, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("imagenets_hf.predictions.evaluate_predictions", interrupted)
    assert _evaluate(fake) == 130
    assert capsys.readouterr().err == (
        "imagenets-hf evaluate: interrupted; re-run the same command to start again\n"
    )


def test_submit_given_the_validation_predictions(fake, tmp_path, capsys):
    from imagenets_hf import testing

    setup = testing.make_fake_setup(str(tmp_path), CONFIG, metadata_dir=fake["metadata_dir"])
    output = tmp_path / "submission.zip"
    code = main(["submit", CONFIG, "-p", fake["prediction_dir"], "--method-name", "mine", "-o", str(output),
                 "--imagenet-dir", setup.imagenet_dir, "--metadata-dir", fake["metadata_dir"], "--workers", "1"])
    assert code == 2
    error = capsys.readouterr().err
    assert "8 of 8 predictions are missing (e.g. n10000000/ILSVRC2012_val_00000451.png, " in error
    assert ("and the 8 predictions it holds are not test images of config 50 (e.g. "
            "n10000000/ILSVRC2012_val_00000401.png, n10000000/ILSVRC2012_val_00000402.png, ...; "
            "validation predictions instead of test ones?)") in error
    assert not output.exists()


def test_export_into_a_folder_with_the_users_own_readme(tmp_path, capsys):
    from imagenets_hf import testing

    setup = testing.make_fake_setup(str(tmp_path), CONFIG)
    project = tmp_path / "project"
    project.mkdir()
    (project / "README.md").write_text("# my notes\n")
    command = ["export", CONFIG, "-o", str(project), "--imagenet-dir", setup.imagenet_dir, "--annotations",
               setup.annotations, "--metadata-dir", setup.metadata_dir, "--cache-dir", str(tmp_path / "cache")]
    assert main(command) == 2
    assert (f"imagenets-hf export: error: {project / 'README.md'} exists and is not a dataset card written by an "
            "export (no `configs` in a YAML header): export into an empty or new --output folder") \
        in capsys.readouterr().err
    assert (project / "README.md").read_text() == "# my notes\n" and sorted(os.listdir(project)) == ["README.md"]
    # an export's own card is rewritten as before, on a re-run
    assert main(command[:3] + [str(tmp_path / "out")] + command[4:]) == 0
    assert main(command[:3] + [str(tmp_path / "out")] + command[4:]) == 0


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    from imagenets_hf import testing

    tmp_path = tmp_path_factory.mktemp("exported")
    setup = testing.make_fake_setup(str(tmp_path), CONFIG)
    assert main(["export", CONFIG, "-o", str(tmp_path / "out"), "--imagenet-dir", setup.imagenet_dir,
                 "--annotations", setup.annotations, "--metadata-dir", setup.metadata_dir,
                 "--cache-dir", str(tmp_path / "cache")]) == 0
    return str(tmp_path / "out")


def test_push_dry_run_checks_the_repo_id_like_the_push(exported, capsys):
    assert main(["push", exported, "--repo-id", "imagenet-s", "--dry-run"]) == 2
    assert ("imagenets-hf push: error: invalid --repo-id 'imagenet-s': write it as ORG/NAME"
            in capsys.readouterr().err)


def test_push_refused_by_the_hub_is_one_line(exported, monkeypatch, capsys):
    # no network: the HfApi call that would reach the hub raises what huggingface_hub raises
    import huggingface_hub
    from huggingface_hub import errors

    def offline(*args, **kwargs):
        raise errors.OfflineModeIsEnabled("Cannot reach https://huggingface.co/api/repos/create: offline mode")

    monkeypatch.setattr(huggingface_hub.HfApi, "create_repo", offline)
    assert main(["push", exported, "--repo-id", "me/imagenet-s"]) == 2
    assert capsys.readouterr().err == ("imagenets-hf push: error: offline mode is on (HF_HUB_OFFLINE): unset it "
                                       "to push; --dry-run checks the folder offline\n")

    def refused(*args, **kwargs):
        # built without an HTTP response object (its type depends on the huggingface_hub version)
        error = errors.HfHubHTTPError.__new__(errors.HfHubHTTPError)
        Exception.__init__(error, "403 Forbidden: you may not create repos in 'me'")
        raise error

    monkeypatch.setattr(huggingface_hub.HfApi, "create_repo", refused)
    assert main(["push", exported, "--repo-id", "me/imagenet-s"]) == 2
    assert capsys.readouterr().err == (
        "imagenets-hf push: error: the hub refused the push to me/imagenet-s (403 Forbidden: you may not create "
        "repos in 'me'); check your token (HF_TOKEN or `hf auth login`) and that it may write to me\n"
    )


def test_ground_truth_mask_of_another_config_is_named(fake, tmp_path, capsys):
    import numpy as np

    masks = {relpath: mask.copy() for relpath, mask in fake["masks"].items()}
    last = sorted(masks)[-1]
    masks[last][0, 0] = 51  # a config-300 class id; 1000 (ignore) is still allowed
    truth = write_tree(str(tmp_path / "masks"), masks)
    assert int(np.max(masks[last])) == 1000
    assert _evaluate(fake, ground_truth=truth) == 2
    error = capsys.readouterr().err
    assert (f"error: {os.path.join(truth, last)}: the mask holds class 51, above the 50 classes of this config: "
            "are these the masks of another config?") in error
