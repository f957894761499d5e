"""The CUDA paths of speechsynth, checked on a machine with a GPU (none in CI):

    python scripts/gpu_check.py

Each model (random weights at NVIDIA's default size) runs on CUDA through the runtime, as
`synthesize --device cuda` does, at fp32, auto and bf16, and is compared with the CPU at fp32
(relative RMS error, rounded durations, frames); then a whole FastPitch + WaveGlow synthesis
runs on CUDA. Batch-1 latencies are medians of a few calls in the same run. A failing check
prints its traceback and the next one runs. Tacotron 2 on random weights stops wherever its
gate fires, so for it only that it runs is checked.
"""

from __future__ import annotations

import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from speechsynth.infer.acoustic import Controls
from speechsynth.infer.bench import random_log_mel, random_text, write_random_checkpoint
from speechsynth.infer.runtimes import RuntimeOptions, load_vocoder, open_acoustic_model
from speechsynth.infer.synthesizer import Synthesizer
from speechsynth.infer.vocoder_interface import VocoderOptions

PRECISIONS = ("fp32", "auto", "bf16")


def relative_error(actual: np.ndarray, expected: np.ndarray) -> float:
    rms = np.sqrt(np.mean((actual - expected) ** 2))
    return float(rms / (np.sqrt(np.mean(expected**2)) + 1e-12))


def median_seconds(call: Callable[[], object], repeats: int = 5) -> float:
    call()
    torch.cuda.synchronize()
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        torch.cuda.synchronize()
        seconds.append(time.perf_counter() - started)
    return float(np.median(seconds))


def check_acoustic_model(name: str, scratch: Path) -> None:
    checkpoint = write_random_checkpoint(name, scratch / f"{name}.pt")
    ids, lengths = random_text(2, 128, 148, 0).numpy(), np.array([128, 100])
    controls = Controls(max_decoder_steps=200) if name == "tacotron2" else Controls()
    cpu = open_acoustic_model(checkpoint, RuntimeOptions(device="cpu", precision="fp32"))
    expected = cpu.generate(ids, lengths, controls, 0)
    for precision in PRECISIONS:
        model = open_acoustic_model(checkpoint, RuntimeOptions(device="cuda", precision=precision))
        output = model.generate(ids, lengths, controls, 0)
        same_frames = np.array_equal(output.mel_lengths, expected.mel_lengths)
        error = relative_error(output.mels, expected.mels) if same_frames else None
        durations = None
        if output.durations is not None:
            durations = np.array_equal(np.rint(output.durations), np.rint(expected.durations))
        seconds = median_seconds(lambda m=model: m.generate(ids[:1], lengths[:1], controls, 0))
        print(
            f"{name} cuda {precision} -> {model.describe().get('precision')}: "
            f"frames {output.mel_lengths.tolist()} (cpu {expected.mel_lengths.tolist()}), "
            f"error vs cpu fp32 {error}, durations identical {durations}, "
            f"finite {bool(np.isfinite(output.mels).all())}, batch-1 {seconds * 1000:.1f} ms"
        )


def check_waveglow(scratch: Path) -> None:
    checkpoint = write_random_checkpoint("waveglow", scratch / "waveglow.pt")
    mels = random_log_mel(1, 80, 80, 0).numpy()
    cpu = load_vocoder(checkpoint, VocoderOptions(precision="fp32"), RuntimeOptions(device="cpu"))
    expected = cpu.vocode(mels)
    for precision in PRECISIONS:
        options = VocoderOptions(precision=precision)
        vocoder = load_vocoder(checkpoint, options, RuntimeOptions(device="cuda"))
        audio = vocoder.vocode(mels)
        seconds = median_seconds(lambda v=vocoder: v.vocode(mels), repeats=3)
        print(
            f"waveglow cuda {precision} -> {vocoder.precision}: error vs cpu fp32 "
            f"{relative_error(audio, expected):.2e}, finite {bool(np.isfinite(audio).all())}, "
            f"80 frames {seconds * 1000:.1f} ms"
        )


def check_synthesizer(scratch: Path) -> None:
    """Needs check_acoustic_model("fastpitch") and check_waveglow's checkpoints."""
    model = open_acoustic_model(scratch / "fastpitch.pt", RuntimeOptions(device="cuda"))
    cuda = RuntimeOptions(device="cuda")
    vocoder = load_vocoder(scratch / "waveglow.pt", VocoderOptions(), cuda)
    texts = [("a", "Hello world, this is a test."), ("b", "A longer sentence to batch with it.")]
    results = Synthesizer(model, vocoder, batch_size=4, seed=0).synthesize(texts)
    summary = [(r.n_frames, len(r.audio), bool(np.isfinite(r.audio).all())) for r in results]
    print("synthesizer on cuda (frames, samples, finite):", summary)


def main() -> None:
    print(f"torch {torch.__version__}, cuda {torch.cuda.is_available()}")
    print(torch.cuda.get_device_name(0))
    scratch = Path(tempfile.mkdtemp(prefix="speechsynth-gpu-check-"))
    checks: list[Callable[[], None]] = [
        *(lambda n=name: check_acoustic_model(n, scratch) for name in ("fastpitch", "fastspeech")),
        lambda: check_acoustic_model("tacotron2", scratch),
        lambda: check_waveglow(scratch),
        lambda: check_synthesizer(scratch),
    ]
    for check in checks:
        try:
            check()
        except Exception:
            traceback.print_exc()


if __name__ == "__main__":
    main()
