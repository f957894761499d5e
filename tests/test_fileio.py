import os
import stat

import pytest

from speechsynth.fileio import atomic_path, write_text_atomic


def test_atomic_write_replaces_and_gets_umask_permissions(tmp_path):
    target = tmp_path / "out.txt"
    old_umask = os.umask(0o022)
    try:
        write_text_atomic(target, "first")
        write_text_atomic(target, "second")
    finally:
        os.umask(old_umask)
    assert target.read_text() == "second"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644  # not mkstemp's 0600
    assert [path.name for path in tmp_path.iterdir()] == ["out.txt"]


def test_a_failed_write_leaves_nothing_behind(tmp_path):
    target = tmp_path / "out.wav"
    with pytest.raises(RuntimeError), atomic_path(target) as temp_path:
        temp_path.write_bytes(b"half")
        raise RuntimeError("crash")
    assert list(tmp_path.iterdir()) == []
