import pytest

from speechsynth.data import Utterance
from speechsynth.data.splits import split_utterances
from speechsynth.errors import SpeechSynthError


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
