"""Inference speed on this machine (`speechsynth bench`): every runtime of a model side by side.

`measure_speed(model name, options)` builds the model (random weights or a checkpoint,
`infer.bench.bench_model`), exports it to a temporary directory when an ONNX precision is asked
for (`onnx`: fp32 graphs; `onnx-int8`: the same graphs quantized as `export --quantize int8`),
times each precision with the primitives of `infer.bench` in one process, and returns a plain
dict (the command formats it). Each row also gets its speed relative to the fp32 row.

FastPitch / FastSpeech: ONNX graphs take no durations, so when an ONNX precision is among the
rows every row reads the same random texts with the durations the model predicts itself (the
same work for every runtime; random weights predict `mel_frames / text_length` frames per
symbol). Otherwise the durations are forced to add up to `mel_frames` (NVIDIA's protocol).
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch

from speechsynth.errors import SpeechSynthError
from speechsynth.export.exporters import export_model, quantize_export
from speechsynth.infer.acoustic import AcousticModel, Controls
from speechsynth.infer.bench import (
    SubjectSize,
    bench_decoder_runs,
    bench_model,
    bench_parallel_inference,
    bench_predicted_durations,
    bench_tacotron2_inference,
    bench_vocoder,
    parameter_count,
    random_text,
    set_threads,
)
from speechsynth.infer.onnx_runtime import OnnxRuntime
from speechsynth.infer.precision import default_precision_for, runs_well
from speechsynth.infer.runtimes import RuntimeOptions, open_acoustic_model, open_vocoder
from speechsynth.infer.torch_runtime import TorchRuntime
from speechsynth.infer.vocoder_interface import VocoderOptions
from speechsynth.infer.vocoders import HiFiGanVocoder, WaveGlowVocoder
from speechsynth.models.fastpitch import FastPitch
from speechsynth.models.fastspeech import FastSpeech
from speechsynth.models.hifigan import HiFiGanGenerator
from speechsynth.models.registry import LoadedModel
from speechsynth.models.tacotron2 import Tacotron2
from speechsynth.models.waveglow import WaveGlow

# ONNX precision -> the quantization of its export (None: fp32 graphs)
ONNX_PRECISIONS: dict[str, str | None] = {"onnx": None, "onnx-int8": "int8"}


@dataclass(frozen=True)
class SpeedOptions:
    """What `speechsynth bench` times (its flags, less the training ones)."""

    checkpoint: Path | None = None
    precisions: tuple[str, ...] | None = None  # None: the model's default
    steps: int = 600  # Tacotron 2: decoder steps per run
    batch_size: int = 1
    text_length: int = 128
    repeats: int = 3
    seed: int = 0
    threads: int | None = None  # None: torch's default
    channels: tuple[int, ...] = (256, 512)  # WaveGlow: one random model per WN width
    mel_frames: int = 600  # WaveGlow: frames vocoded; FastPitch / FastSpeech: frames made
    sigma: float = 0.6
    denoiser_strength: float = 0.01


ALL = "all"  # --precision all: every option this machine runs well, beside fp32


class SpeedBenchmark(NamedTuple):
    run: Callable[[str, SpeedOptions], dict[str, Any]]
    report: str  # which report layout: "autoregressive", "vocoder" or "parallel"
    precisions: Callable[[], tuple[str, ...]]  # what it can time
    model_class: type  # its network: the default precision ("auto") is this network's


def measure_speed(name: str, options: SpeedOptions) -> dict[str, Any]:
    """Time model `name` as `options` say -> a report: model, report layout, threads, the
    benchmark's own entries (weights, parameters, one inference row per precision, ...) and
    `results`, one summary per row (`summary_results`)."""
    if name not in SPEED_BENCHMARKS:
        raise SpeechSynthError(
            f"no benchmark for {name!r}; choose one of {', '.join(SPEED_BENCHMARKS)}"
        )
    benchmark = SPEED_BENCHMARKS[name]
    precisions = _checked_precisions(name, benchmark, options.precisions)
    threads = set_threads(options.threads)
    result = benchmark.run(name, replace(options, precisions=precisions))
    report = {"model": name, "report": benchmark.report, "threads": threads, **result}
    report["default_precision"] = default_precision_name(benchmark)
    report["results"] = summary_results(report)
    return report


def default_precision_name(benchmark: SpeedBenchmark) -> str:
    """What `synthesize` / `say` run this model at on this CPU by default ("auto")."""
    return default_precision_for(benchmark.model_class, torch.device("cpu"))


def _checked_precisions(
    name: str, benchmark: SpeedBenchmark, asked: tuple[str, ...] | None
) -> tuple[str, ...]:
    """--precision as asked ("all": every option that runs well here; none: fp32 and the
    default), each checked against what the model has."""
    available = benchmark.precisions()
    if asked == (ALL,):
        cpu = torch.device("cpu")
        return tuple(option for option in available if runs_well(option, cpu))
    unknown = [precision for precision in asked or () if precision not in available]
    if unknown:
        raise SpeechSynthError(
            f"--precision {unknown[0]}: not available for {name}; choose from "
            f"{', '.join(available)} or {ALL}"
        )
    if asked:
        return tuple(dict.fromkeys(asked))
    return tuple(dict.fromkeys(("fp32", default_precision_name(benchmark))))


def with_speedups(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each row with `speedup`: the fp32 row's median latency over its own (None without
    an fp32 row)."""
    fp32 = next((row for row in rows if row["precision"] == "fp32"), None)
    return [
        {
            **row,
            "speedup": fp32["latency"]["median"] / row["latency"]["median"] if fp32 else None,
        }
        for row in rows
    ]


def summary_results(report: dict[str, Any]) -> list[dict[str, Any]]:
    """One line per option measured, in every model's terms: precision, threads, latency_s
    (median), speedup_vs_fp32, relative_rms_error (mels; audio for vocoders; 0 for fp32, None
    where not measured) and, for acoustic models, durations_identical (None: not compared)."""
    runs = report.get("runs", [report])
    results = []
    for run in runs:
        for row in run["inference"]:
            error = row.get("mel_relative_error", row.get("audio_relative_error"))
            entry = {
                "precision": row["precision"],
                "threads": row["threads"],
                "latency_s": row["latency"]["median"],
                "speedup_vs_fp32": row["speedup"],
                "relative_rms_error": 0.0 if row["precision"] == "fp32" else error,
            }
            if report["report"] == "vocoder":
                entry["model"] = run["model"]
                entry["channels"] = run["channels"]
            elif report["report"] == "parallel":
                fp32 = row["precision"] == "fp32"
                entry["durations_identical"] = True if fp32 else row.get("durations_identical")
            else:  # Tacotron 2 predicts no durations
                entry["durations_identical"] = None
            results.append(entry)
    return results


@contextlib.contextmanager
def onnx_exports(loaded: LoadedModel, precisions: tuple[str, ...]) -> Iterator[dict[str, Path]]:
    """The ONNX precisions among `precisions` -> export directories, exported once (fp32) and
    quantized in a copy for onnx-int8; all removed afterwards."""
    wanted = [precision for precision in precisions if precision in ONNX_PRECISIONS]
    with tempfile.TemporaryDirectory(prefix="speechsynth-bench-") as scratch_name:
        scratch, directories = Path(scratch_name), {}
        if wanted:
            export_model(loaded, scratch / "onnx")
        for precision in wanted:
            directory = scratch / precision
            quantization = ONNX_PRECISIONS[precision]
            if quantization is not None:
                shutil.copytree(scratch / "onnx", directory)
                quantize_export(directory, quantization)
            directories[precision] = directory
        yield directories


def onnx_options() -> RuntimeOptions:
    """ONNX Runtime on the CPU with as many threads as torch uses."""
    return RuntimeOptions(providers=("cpu",), threads=torch.get_num_threads())


# ----------------------------------------------------------------------------- Tacotron 2


def tacotron2_speed(name: str, options: SpeedOptions) -> dict[str, Any]:
    loaded, weights = bench_model(name, options.checkpoint, options.seed)
    with onnx_exports(loaded, options.precisions) as exports:
        rows = [
            _tacotron2_row(loaded, precision, options, exports) for precision in options.precisions
        ]
    return {
        "weights": weights,
        "parameters": parameter_count(loaded.model),
        "inference": with_speedups(rows),
    }


def _tacotron2_row(
    loaded: LoadedModel, precision: str, options: SpeedOptions, exports: dict[str, Path]
) -> dict[str, Any]:
    if precision not in exports:
        return bench_tacotron2_inference(
            loaded.model,
            precision=precision,
            steps=options.steps,
            batch_size=options.batch_size,
            text_length=options.text_length,
            repeats=options.repeats,
            seed=options.seed,
        ).to_dict()
    runtime = open_acoustic_model(exports[precision], onnx_options())
    text = random_text(
        options.batch_size, options.text_length, loaded.config.n_symbols, options.seed
    )
    return bench_decoder_runs(
        lambda text, steps: runtime.timed_run(text.numpy(), steps),
        text,
        precision=precision,
        steps=options.steps,
        repeats=options.repeats,
    ).to_dict()


# ------------------------------------------------------------------------------- WaveGlow


def waveglow_precisions() -> tuple[str, ...]:
    # No onnx-int8: the graph has no matrix products, the quantizer would leave it fp32.
    onnx = ("onnx",) if "waveglow" in OnnxRuntime().vocoders() else ()
    return ("fp32", "bf16", *onnx)


def waveglow_speed(name: str, options: SpeedOptions) -> dict[str, Any]:
    runs = []
    for channels in [None] if options.checkpoint else options.channels:
        size = SubjectSize(channels=channels)
        loaded, weights = bench_model(name, options.checkpoint, options.seed, size)
        runs.append(_waveglow_run(loaded, weights, options))
    return {"runs": runs}


def _waveglow_run(loaded: LoadedModel, weights: str, options: SpeedOptions) -> dict[str, Any]:
    channels = loaded.model.config.n_channels
    return {
        "model": "waveglow",
        "label": f"waveglow {channels} channels",
        "channels": channels,
        "weights": weights,
        "parameters": parameter_count(loaded.model),
        "inference": with_speedups(_waveglow_rows(loaded, options)),
    }


WAVEGLOW_BESIDE_HIFIGAN = 256  # NVIDIA's waveglow256, the usual CPU comparison


def hifigan_speed(name: str, options: SpeedOptions) -> dict[str, Any]:
    """HiFi-GAN at each precision, then WaveGlow-256 in fp32 on the same mels, in one run."""
    loaded, weights = bench_model(name, options.checkpoint, options.seed)
    channels = loaded.model.config.upsample_initial_channel
    hifigan = {
        "model": "hifigan",
        "label": f"hifigan, {channels} initial channels",
        "channels": channels,
        "weights": weights,
        "parameters": parameter_count(loaded.model),
        "inference": with_speedups(_hifigan_rows(loaded, options)),
    }
    size = SubjectSize(channels=WAVEGLOW_BESIDE_HIFIGAN)
    waveglow, waveglow_weights = bench_model("waveglow", None, options.seed, size)
    fp32 = replace(options, precisions=("fp32",))
    return {"runs": [hifigan, _waveglow_run(waveglow, waveglow_weights, fp32)]}


def _hifigan_rows(loaded: LoadedModel, options: SpeedOptions) -> list[dict[str, Any]]:
    """Each precision's result, compared with fp32's audio of the same mels (HiFi-GAN draws no
    noise); NVIDIA's inference runs no denoiser, so neither does this."""
    sizes = {"mel_frames": options.mel_frames, "batch_size": options.batch_size}
    precisions = sorted(options.precisions, key=lambda name: name != "fp32")
    results, reference = [], None
    for precision in precisions:
        vocoder = HiFiGanVocoder(loaded.model, precision=precision, denoiser_strength=0.0)
        result, audio = bench_vocoder(
            vocoder,
            repeats=options.repeats,
            reference_audio=reference,
            seed=options.seed,
            precision=precision,
            **sizes,
        )
        reference = audio if reference is None else reference
        results.append(result.to_dict())
    order = {precision: index for index, precision in enumerate(options.precisions)}
    return sorted(results, key=lambda row: order[row["precision"]])


def _waveglow_rows(loaded: LoadedModel, options: SpeedOptions) -> list[dict[str, Any]]:
    """Each precision's result; the others are compared with fp32's audio (same noise)."""
    sizes = {"mel_frames": options.mel_frames, "batch_size": options.batch_size}
    sizes["seed"] = options.seed
    precisions = sorted(options.precisions, key=lambda name: name != "fp32")
    results, reference = [], None
    with onnx_exports(loaded, precisions) as exports:
        for precision in precisions:
            if precision != "fp32" and reference is None:
                vocoder = _waveglow_vocoder(loaded, "fp32", options, exports)
                reference = bench_vocoder(vocoder, repeats=1, **sizes)[1]
            vocoder = _waveglow_vocoder(loaded, precision, options, exports)
            result, audio = bench_vocoder(
                vocoder,
                repeats=options.repeats,
                reference_audio=reference,
                precision=precision,
                **sizes,
            )
            reference = audio if precision == "fp32" else reference
            results.append(result.to_dict())
    order = {precision: index for index, precision in enumerate(options.precisions)}
    return sorted(results, key=lambda row: order[row["precision"]])


def _waveglow_vocoder(
    loaded: LoadedModel, precision: str, options: SpeedOptions, exports: dict[str, Path]
) -> Any:
    """One chunk of all the frames (as NVIDIA's timing), the denoiser as `synthesize` has it."""
    if precision in exports:
        vocoder_options = VocoderOptions(
            sigma=options.sigma, denoiser_strength=options.denoiser_strength, seed=options.seed
        )
        return open_vocoder(exports[precision], vocoder_options, onnx_options())
    return WaveGlowVocoder(
        loaded.model,
        sigma=options.sigma,
        denoiser_strength=options.denoiser_strength,
        precision=precision,
        chunk_frames=max(options.mel_frames, 1),
        overlap_frames=0,
        seed=options.seed,
        copy_model=False,  # our own model: every vocoder folds and shares it
    )


# ------------------------------------------------------------------- FastPitch, FastSpeech


def parallel_speed(name: str, options: SpeedOptions) -> dict[str, Any]:
    size = SubjectSize(text_length=options.text_length, mel_frames=options.mel_frames)
    loaded, weights = bench_model(name, options.checkpoint, options.seed, size)
    predicted = any(precision in ONNX_PRECISIONS for precision in options.precisions)
    rows = _predicted_rows(loaded, options) if predicted else _forced_rows(loaded, options)
    return {
        "weights": weights,
        "parameters": parameter_count(loaded.model),
        "inference": with_speedups(rows),
    }


def _forced_rows(loaded: LoadedModel, options: SpeedOptions) -> list[dict[str, Any]]:
    return [
        bench_parallel_inference(
            loaded.model,
            precision=precision,
            mel_frames=options.mel_frames,
            batch_size=options.batch_size,
            text_length=options.text_length,
            repeats=options.repeats,
            seed=options.seed,
        ).to_dict()
        for precision in options.precisions
    ]


def _predicted_rows(loaded: LoadedModel, options: SpeedOptions) -> list[dict[str, Any]]:
    """Every precision through the acoustic-model interface, on the same texts; each compared
    with the fp32 PyTorch model's mels."""
    ids = random_text(
        options.batch_size, options.text_length, loaded.config.n_symbols, options.seed
    ).numpy()
    lengths = np.full(len(ids), ids.shape[1], dtype=np.int64)
    reference = _torch_acoustic(loaded, "fp32").generate(ids, lengths, Controls())
    rows = []
    with onnx_exports(loaded, options.precisions) as exports:
        for precision in options.precisions:
            model = (
                open_acoustic_model(exports[precision], onnx_options())
                if precision in exports
                else _torch_acoustic(loaded, precision)
            )
            result, _ = bench_predicted_durations(
                model,
                ids,
                precision=precision,
                repeats=options.repeats,
                reference=None if precision == "fp32" else reference,
            )
            rows.append(result.to_dict())
    return rows


def _torch_acoustic(loaded: LoadedModel, precision: str) -> AcousticModel:
    backend = TorchRuntime().acoustic_models()[loaded.name]
    return backend(loaded, RuntimeOptions(device="cpu", precision=precision))


# ------------------------------------------------------------------------------- registry


def _fixed(*precisions: str) -> Callable[[], tuple[str, ...]]:
    return lambda: precisions


SPEED_BENCHMARKS: dict[str, SpeedBenchmark] = {
    "tacotron2": SpeedBenchmark(
        tacotron2_speed,
        "autoregressive",
        _fixed("fp32", "bf16", "int8", *ONNX_PRECISIONS),
        Tacotron2,
    ),
    "waveglow": SpeedBenchmark(waveglow_speed, "vocoder", waveglow_precisions, WaveGlow),
    "hifigan": SpeedBenchmark(hifigan_speed, "vocoder", _fixed("fp32", "bf16"), HiFiGanGenerator),
    "fastpitch": SpeedBenchmark(
        parallel_speed, "parallel", _fixed("fp32", "bf16", *ONNX_PRECISIONS), FastPitch
    ),
    "fastspeech": SpeedBenchmark(
        parallel_speed, "parallel", _fixed("fp32", "bf16", *ONNX_PRECISIONS), FastSpeech
    ),
}
