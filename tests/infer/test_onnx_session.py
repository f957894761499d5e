"""CPU sessions start from a cached optimised graph: same outputs, and a damaged cache entry
is rebuilt."""

from __future__ import annotations

import numpy as np
import onnxruntime
import pytest

from speechsynth.infer.onnx_session import onnx_session, optimized_graph_path
from speechsynth.infer.providers import ProviderSettings
from speechsynth.infer.voice import bundled_voice_path

CPU = ProviderSettings(("cpu",))


@pytest.fixture
def graph(tmp_path, monkeypatch):
    monkeypatch.setenv("SPEECHSYNTH_CACHE", str(tmp_path / "cache"))
    return bundled_voice_path() / "model.onnx"


def _mels(session) -> np.ndarray:
    feeds = {
        "text": np.array([[12, 40, 33, 21, 17, 9, 50]], dtype=np.int64),
        "text_lengths": np.array([7], dtype=np.int64),
    }
    for control in ("pace", "pitch_flatten", "pitch_invert", "pitch_amplify", "pitch_shift_hz"):
        feeds[control] = np.array(
            [1.0 if control in ("pace", "pitch_amplify") else 0.0], np.float32
        )
    return session.run(None, feeds)[0]


def test_the_second_session_loads_the_cached_graph_and_gives_the_same_mels(graph):
    cached = optimized_graph_path(graph, onnxruntime.__version__)
    assert not cached.exists()
    first = onnx_session(graph, threads=1, providers=CPU)
    assert cached.is_file()
    second = onnx_session(graph, threads=1, providers=CPU)
    np.testing.assert_array_equal(_mels(first), _mels(second))


def test_a_damaged_cache_entry_is_rebuilt(graph):
    cached = optimized_graph_path(graph, onnxruntime.__version__)
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"not a graph")
    session = onnx_session(graph, threads=1, providers=CPU)
    assert _mels(session).shape[1] == 80
    assert cached.stat().st_size > 1000
