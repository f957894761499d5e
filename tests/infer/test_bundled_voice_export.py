"""The demo voice as `say` runs it: an ONNX export of the packed checkpoint beside it, spoken
without torch."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile

from speechsynth.infer.acoustic import Controls, pad_ids
from speechsynth.infer.runtimes import open_acoustic_model
from speechsynth.infer.voice import bundled_checkpoint_path, bundled_voice_path
from speechsynth.models.export_manifest import read_manifest
from speechsynth.text import TextProcessor

SENTENCES = [
    "Hello there.",
    "The quick brown fox jumps over the lazy dog.",
    "Printing, in the only sense with which we are at present concerned, differs from most arts.",
]


@pytest.fixture(scope="module")
def both():
    if not bundled_voice_path().is_dir() or not bundled_checkpoint_path().is_file():
        pytest.fail("the package must ship the demo voice: voices/demo/ and voices/demo.pt")
    return open_acoustic_model(bundled_voice_path()), open_acoustic_model(bundled_checkpoint_path())


def test_the_export_is_of_the_checkpoint_beside_it(both):
    exported, checkpoint = both
    manifest = read_manifest(bundled_voice_path())
    assert manifest["model_config"] == checkpoint.config.to_dict()
    assert exported.text_setup == checkpoint.text_setup
    assert manifest["voice"]["vocoder"] == "griffin-lim"
    assert sum(path.stat().st_size for path in bundled_voice_path().iterdir()) < 30e6


def test_the_export_gives_the_checkpoints_mels(both):
    exported, checkpoint = both
    processor = TextProcessor.for_setup(checkpoint.text_setup, seed=0)
    ids, lengths = pad_ids([processor.encode(text) for text in SENTENCES])
    onnx_out = exported.generate(ids, lengths, Controls())
    torch_out = checkpoint.generate(ids, lengths, Controls())
    assert onnx_out.mel_lengths.tolist() == torch_out.mel_lengths.tolist()
    assert np.abs(onnx_out.mels - torch_out.mels).max() < 1e-3


# An import hook that makes `import torch` (and its submodules) fail, as if it were not installed.
BLOCK_TORCH = """
import sys
from importlib.abc import MetaPathFinder

class NoTorch(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ModuleNotFoundError(f"No module named {name!r} (blocked)", name=name)
        return None

sys.meta_path.insert(0, NoTorch())
"""


def _say_without_torch(tmp_path, *arguments: str, stdin: str | None = None):
    return _run_without_torch(tmp_path, "say", *arguments, stdin=stdin)


def _run_without_torch(tmp_path, *arguments: str, stdin: str | None = None):
    script = BLOCK_TORCH + "from speechsynth.cli import main\nsys.exit(main(sys.argv[1:]))\n"
    return subprocess.run(
        [sys.executable, "-c", script, *arguments],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )


def test_say_speaks_with_torch_unimportable(tmp_path):
    done = _say_without_torch(tmp_path, "Hello there. How are you?", "-o", "hello.wav", "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    audio, rate = soundfile.read(tmp_path / "hello.wav")
    assert rate == 22050 and len(audio) / rate == pytest.approx(summary["seconds"], abs=0.01)
    assert summary["sentences"] == 1 and np.sqrt(np.mean(audio**2)) > 0.01


def test_say_reads_stdin_and_reports_bad_input_in_one_line_without_torch(tmp_path):
    done = _say_without_torch(tmp_path, "-o", "piped.wav", stdin="Read from a pipe.\n")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "piped.wav").stat().st_size > 1000
    done = _say_without_torch(tmp_path, "-o", "empty.wav", stdin="   \n")
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "the text is empty" in done.stderr and not (tmp_path / "empty.wav").exists()
    done = _say_without_torch(tmp_path, "Hi.", "--voice", str(tmp_path), "-o", "x.wav")
    assert done.returncode == 2 and "is it a directory written by" in done.stderr
    assert done.stderr.count("\n") == 1


def test_a_checkpoint_without_torch_says_what_to_install(tmp_path):
    done = _run_without_torch(tmp_path, "text", "--model", str(bundled_checkpoint_path()), "Hi.")
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "`speechsynth text` needs torch" in done.stderr
    assert "pip install 'speechsynth[train]'" in done.stderr


def test_the_say_path_imports_no_training_alignment_or_librosa_once_cached(tmp_path):
    from speechsynth.audio.config import MelConfig
    from speechsynth.audio.mel_basis import mel_pseudo_inverse
    from speechsynth.text.cmudict import load_dictionary

    mel_pseudo_inverse(MelConfig()), load_dictionary()  # the caches say reads (same folder)
    script = BLOCK_TORCH + (
        "from speechsynth.cli import main\n"
        "assert main(['say', 'Hello there.', '-o', 'x.wav']) == 0\n"
        "heavy = ('speechsynth.train', 'speechsynth.models.aligner', 'scipy.stats', 'librosa')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
