import re

import pytest

from speechsynth.cli import main
from speechsynth.data import Utterance, read_filelist
from speechsynth.errors import SpeechSynthError
from speechsynth.prepare.split import split_utterances


def make_utterances(count: int) -> list[Utterance]:
    return [Utterance(f"id{index:03d}", f"text {index}") for index in range(count)]


def test_split_sizes_disjoint_and_complete():
    utterances = make_utterances(100)
    splits = split_utterances(utterances, val_size=10, test_size=0.2, seed=1)
    sizes = {name: len(items) for name, items in splits.items()}
    assert sizes == {"train": 70, "val": 10, "test": 20}
    ids = [u.utterance_id for items in splits.values() for u in items]
    assert sorted(ids) == [u.utterance_id for u in utterances]


def test_split_is_seeded_and_keeps_dataset_order():
    utterances = make_utterances(50)
    first = split_utterances(utterances, 5, 5, seed=7)
    assert first == split_utterances(utterances, 5, 5, seed=7)
    assert first["val"] != split_utterances(utterances, 5, 5, seed=8)["val"]
    train_ids = [u.utterance_id for u in first["train"]]
    assert train_ids == sorted(train_ids)


@pytest.mark.parametrize(("val", "test"), [(50, 50), (0.6, 0.4), (2.5, 1), (-1, 1)])
def test_impossible_sizes_are_clear_errors(val, test):
    with pytest.raises(SpeechSynthError):
        split_utterances(make_utterances(100), val, test, seed=0)


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
