import pytest

from speechsynth.export.onnx_files import staged_directory


def test_a_failed_export_leaves_the_directory_as_it_was(tmp_path):
    (tmp_path / "manifest.json").write_text("old")
    with pytest.raises(RuntimeError), staged_directory(tmp_path, "manifest.json") as staging:
        (staging / "part.onnx").write_bytes(b"half")
        raise RuntimeError("exporter failed")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["manifest.json"]
    assert (tmp_path / "manifest.json").read_text() == "old"


def test_a_finished_export_replaces_the_files_manifest_included(tmp_path):
    (tmp_path / "manifest.json").write_text("old")
    with staged_directory(tmp_path, "manifest.json") as staging:
        (staging / "part.onnx").write_bytes(b"new part")
        (staging / "manifest.json").write_text("new")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["manifest.json", "part.onnx"]
    assert (tmp_path / "manifest.json").read_text() == "new"
