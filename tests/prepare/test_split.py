import re

from speechsynth.cli import main
from speechsynth.data import read_filelist


def test_cli_split_leaves_out_broken_clips(broken_copy, tmp_path, capsys, caplog):
    output = tmp_path / "lists" / "filelists"
    args = ["prepare", "split", str(broken_copy), "--val-size", "1", "--test-size", "1"]
    assert main([*args, "--output", str(output)]) == 0
    assert "leaving out 3 unusable clip(s)" in caplog.text
    train = read_filelist(output / "train.txt", root=broken_copy)
    val = read_filelist(output / "val.txt", root=broken_copy)
    test = read_filelist(output / "test.txt", root=broken_copy)
    assert (len(train), len(val), len(test)) == (1, 1, 1)
    assert all(u.audio_path.is_file() for u in train + val + test)
    assert re.search(r"^train +1 clips -> .*train.txt$", capsys.readouterr().out, re.MULTILINE)


def test_cli_split_default_sizes_need_a_big_dataset(mini_copy, capsys):
    assert main(["prepare", "split", str(mini_copy)]) == 2
    assert "lower --val-size / --test-size" in capsys.readouterr().err
