"""An exported WaveGlow as a vocoder (`--vocoder DIR`), run by ONNX Runtime, against the PyTorch
`WaveGlowVocoder` and NVIDIA's reference outputs (the parity fixture's weights)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from speechsynth.errors import SpeechSynthError
from speechsynth.infer import onnx_waveglow
from speechsynth.infer.chunked_vocoding import Chunking, chunk_starts
from speechsynth.infer.onnx_runtime import OnnxExport
from speechsynth.infer.onnx_waveglow import OnnxWaveGlowVocoder
from speechsynth.infer.runtimes import RuntimeOptions, load_vocoder, open_acoustic_model
from speechsynth.infer.vocoder_interface import VocoderOptions
from speechsynth.infer.vocoders import WaveGlowVocoder
from speechsynth.models.export_manifest import MANIFEST_NAME

TOLERANCE = 1e-4
CHUNKING = Chunking(chunk_frames=20, overlap_frames=8)  # the fixture's 32 frames: 2 chunks


@pytest.fixture(scope="module")
def reference(load_parity) -> dict:
    return load_parity("waveglow")


@pytest.fixture(scope="module")
def exported(waveglow_onnx_dir) -> Path:
    """The parity weights exported once per session (`tests/conftest.py`)."""
    return waveglow_onnx_dir


def onnx_vocoder(directory: Path, chunking: Chunking = CHUNKING, **options) -> OnnxWaveGlowVocoder:
    export = OnnxExport(directory, RuntimeOptions())
    return OnnxWaveGlowVocoder(export, VocoderOptions(**options), chunking)


def two_mels(reference: dict) -> tuple[np.ndarray, list[int]]:
    """The fixture's mel and a different one, 25 of 32 frames long."""
    mel = reference["inputs"]["mel"].numpy()
    return np.concatenate([mel, mel[:, :, ::-1] - 1.0]), [32, 25]


@pytest.mark.parametrize("strength", [0.0, 0.01])
def test_onnx_vocoder_matches_pytorch(exported, parity_dir, reference, strength):
    mels, lengths = two_mels(reference)
    assert len(chunk_starts(32, CHUNKING.chunk_frames, CHUNKING.overlap_frames)) == 2
    torch_vocoder = WaveGlowVocoder(
        parity_dir / "waveglow.pt",
        denoiser_strength=strength,
        seed=7,
        chunk_frames=CHUNKING.chunk_frames,
        overlap_frames=CHUNKING.overlap_frames,
    )
    expected = torch_vocoder(mels, lengths)
    audio = onnx_vocoder(exported, denoiser_strength=strength, seed=7)(mels, lengths)
    assert [len(a) for a in audio] == [len(e) for e in expected] == [32 * 256, 25 * 256]
    for actual, wanted in zip(audio, expected, strict=True):
        assert np.mean(np.abs(wanted) < 1.0) > 0.8  # mostly unclipped: a real comparison
        assert np.abs(actual - wanted).max() < TOLERANCE


def test_the_denoiser_graph_runs_at_its_strength(exported, reference):
    mels, lengths = two_mels(reference)
    plain, denoised, stronger = (
        onnx_vocoder(exported, denoiser_strength=strength)(mels, lengths)[0]
        for strength in (0.0, 0.01, 0.5)
    )
    assert 1e-4 < np.abs(denoised - plain).max() < np.abs(stronger - plain).max()


def test_onnx_vocoder_reproduces_nvidias_infer(exported, reference, monkeypatch):
    """NVIDIA's recorded noise in: the runtime scales the early channels by sigma, as NVIDIA's
    `infer` does (the graph alone, `infer_onnx`, would not), and the denoiser matches theirs."""
    inputs, outputs = reference["inputs"], reference["outputs"]
    recorded = torch.cat(list(inputs["noise_draws"]), 1).numpy()
    monkeypatch.setattr(onnx_waveglow, "utterance_noise", lambda *args: recorded.copy())
    mel = inputs["mel"].numpy()
    for strength, key in ((0.0, "audio"), (0.01, "audio_denoised_strength0.01")):
        vocoder = onnx_vocoder(exported, Chunking(), denoiser_strength=strength)  # NVIDIA's: whole
        (audio,) = vocoder(mel, [32])
        expected = np.clip(outputs[key].numpy()[0], -1.0, 1.0)
        assert np.abs(audio - expected).max() < TOLERANCE


def test_load_vocoder_opens_the_export(exported):
    vocoder = load_vocoder(exported)
    assert isinstance(vocoder, OnnxWaveGlowVocoder)
    assert (vocoder.sigma, vocoder.denoiser_strength, vocoder.seed) == (0.6, 0.01, 0)
    assert vocoder.describe()["runtime"] == "onnx"
    options = VocoderOptions(sigma=0.6, denoiser_strength=0.0, seed=None)
    overridden = load_vocoder(exported, options)
    assert (overridden.denoiser_strength, overridden.seed) == (0.0, None)


def test_manifest_records_the_sigma_and_defaults(exported):
    manifest = json.loads((exported / MANIFEST_NAME).read_text())
    assert manifest["model_name"] == "waveglow" and manifest["sigma"] == 0.6
    assert manifest["inference_defaults"] == {"sigma": 0.6, "denoiser_strength": 0.01}
    assert manifest["files"] == {"waveglow": "waveglow.onnx", "denoiser": "denoiser.onnx"}
    assert manifest["sigma_scaled_channels"] == 4 and manifest["audio"]["hop_length"] == 256


def test_a_different_sigma_asks_for_a_new_export(exported):
    with pytest.raises(SpeechSynthError, match=r"sigma 0\.6 fixed.*export again with --sigma 0\.9"):
        load_vocoder(exported, VocoderOptions(sigma=0.9))


def copy_export(exported: Path, tmp_path: Path) -> Path:
    directory = tmp_path / "copy"
    shutil.copytree(exported, directory)
    return directory


def test_missing_graph(exported, tmp_path):
    directory = copy_export(exported, tmp_path)
    (directory / "waveglow.onnx").unlink()
    with pytest.raises(SpeechSynthError, match=r"waveglow\.onnx: missing; export the model again"):
        load_vocoder(directory)


def test_corrupt_manifest(exported, tmp_path):
    directory = copy_export(exported, tmp_path)
    (directory / MANIFEST_NAME).write_text('{"model_name": ')
    with pytest.raises(SpeechSynthError, match=rf"{MANIFEST_NAME}: not valid JSON") as error:
        load_vocoder(directory)
    assert "\n" not in str(error.value)


def test_an_acoustic_export_is_not_a_vocoder(exported, tmp_path):
    directory = copy_export(exported, tmp_path)
    manifest = json.loads((directory / MANIFEST_NAME).read_text())
    (directory / MANIFEST_NAME).write_text(json.dumps({**manifest, "model_name": "fastpitch"}))
    with pytest.raises(SpeechSynthError, match=r"copy: is a fastpitch model, not a vocoder"):
        load_vocoder(directory)


def test_the_vocoder_export_is_not_a_voice(exported):
    with pytest.raises(SpeechSynthError, match=r"is a vocoder.*--vocoder"):
        open_acoustic_model(exported)


def test_runs_without_torch(exported):
    """An exported vocoder needs numpy and ONNX Runtime only."""
    script = f"""
import sys
sys.modules["torch"] = None  # any import of torch now fails
from pathlib import Path
import numpy as np
from speechsynth.infer.onnx_runtime import OnnxExport
from speechsynth.infer.onnx_waveglow import OnnxWaveGlowVocoder
from speechsynth.infer.runtimes import RuntimeOptions
vocoder = OnnxWaveGlowVocoder(OnnxExport(Path({str(exported)!r}), RuntimeOptions()))
(audio,) = vocoder(np.full((1, 80, 3), -6.0, np.float32), [3])
assert audio.shape == (768,), audio.shape
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_a_checkpoint_voice_speaks_through_the_exported_vocoder(exported, parity_dir, tmp_path):
    """Mixed runtimes from the command line: a PyTorch FastPitch with the ONNX WaveGlow, in
    `synthesize` and `say`; the audio is what the PyTorch WaveGlow makes of the same mels."""
    from speechsynth.cli import main

    fastpitch = str(parity_dir / "fastpitch11.pt")
    text = ["--text", "Printing, in the only sense.", "--seed", "1", "--save-mels"]
    assert main(["synthesize", "--model", fastpitch, "--vocoder", str(exported), *text,
                 "-o", str(tmp_path / "onnx")]) == 0  # fmt: skip
    checkpoint = str(parity_dir / "waveglow.pt")
    assert main(["synthesize", "--model", fastpitch, "--vocoder", checkpoint, *text,
                 "-o", str(tmp_path / "torch")]) == 0  # fmt: skip
    import soundfile

    onnx_audio, rate = soundfile.read(tmp_path / "onnx" / "0001.wav", dtype="float32")
    torch_audio, _ = soundfile.read(tmp_path / "torch" / "0001.wav", dtype="float32")
    assert rate == 22050 and onnx_audio.shape == torch_audio.shape
    assert np.abs(onnx_audio - torch_audio).max() < 2e-4  # 16-bit WAV rounding included
    wav = tmp_path / "say.wav"
    assert main(["say", "Hello.", "--voice", fastpitch, "--vocoder", str(exported),
                 "-o", str(wav)]) == 0  # fmt: skip
    assert wav.stat().st_size > 1000
