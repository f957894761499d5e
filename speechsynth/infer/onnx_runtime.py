"""ONNX exports (`speechsynth export`) run by ONNX Runtime, behind the acoustic-model and
vocoder interfaces. Nothing here imports torch: an exported voice runs without it.

FastPitch and FastSpeech are one graph each (`export.parallel`): padded text and the controls
as tensors in, padded mels out. FastPitch's pitch transforms reach the graph as numbers; a custom
Python pitch function cannot (it runs with PyTorch checkpoints only). Tacotron 2 is NVIDIA's
three graphs driven by a host loop (`onnx_tacotron2`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from speechsynth.errors import SpeechSynthError
from speechsynth.infer.acoustic import AcousticModel, AcousticOutput, Controls
from speechsynth.infer.onnx_session import onnx_session
from speechsynth.infer.providers import ProviderSettings
from speechsynth.infer.runtimes import AcousticBuilder, Runtime, RuntimeOptions, VocoderBuilder
from speechsynth.infer.vocoder_interface import Vocoder, VocoderOptions
from speechsynth.models.export_manifest import (
    MANIFEST_NAME,
    graph_path,
    manifest_text_setup,
    read_manifest,
)
from speechsynth.models.text_setup import TextSetup


class OnnxExport:
    """An export directory, its manifest, and how its sessions are made."""

    def __init__(self, directory: Path, options: RuntimeOptions) -> None:
        self.directory = directory
        self.manifest = read_manifest(directory)
        self.options = options

    @property
    def model_name(self) -> str:
        return str(self.manifest.get("model_name"))

    def session(self, part: str) -> Any:
        settings = ProviderSettings(self.options.providers, self.options.engine_cache)
        return onnx_session(
            graph_path(self.directory, self.manifest, part), default_threads(self.options), settings
        )

    def require(self, key: str) -> Any:
        if key not in self.manifest:
            raise SpeechSynthError(
                f"{self.directory / MANIFEST_NAME}: has no {key!r}; export the model again"
            )
        return self.manifest[key]


def default_threads(options: RuntimeOptions) -> int | None:
    """--threads, else OMP_NUM_THREADS (as torch reads it), else ONNX Runtime's own choice."""
    if options.threads:
        return options.threads
    value = os.environ.get("OMP_NUM_THREADS", "")
    return int(value) if value.isdigit() and int(value) > 0 else None


class OnnxAcousticModel(AcousticModel):
    runtime = "onnx"

    def __init__(self, export: OnnxExport) -> None:
        manifest = export.manifest
        # The config as the manifest holds it: its dataclass would import torch with the model.
        config = dict(manifest["model_config"])
        super().__init__(config, manifest_text_setup(manifest), export.directory)
        self.export = export
        self.manifest = manifest

    def describe(self) -> dict[str, Any]:
        quantization = self.manifest.get("quantization")
        precision = f"onnx-{quantization}" if quantization else "onnx"
        return {**super().describe(), "providers": self.providers(), "precision": precision}

    def providers(self) -> list[str]:
        return []


class OnnxParallelModel(OnnxAcousticModel):
    """One exported graph: padded text and the control inputs in, named outputs out."""

    def __init__(self, export: OnnxExport) -> None:
        super().__init__(export)
        self.control_inputs: dict[str, float] = dict(export.require("control_inputs"))
        self.session = export.session("model")

    def providers(self) -> list[str]:
        return list(self.session.get_providers())

    def run_graph(self, ids: np.ndarray, lengths: np.ndarray, **controls: float) -> list:
        feeds = {
            "text": np.asarray(ids, dtype=np.int64),
            "text_lengths": np.asarray(lengths, dtype=np.int64),
        }
        for name, neutral in self.control_inputs.items():
            feeds[name] = np.array([controls.get(name, neutral)], dtype=np.float32)
        return self.session.run(None, feeds)

    def outputs(self, ids: np.ndarray, lengths: np.ndarray, controls: Controls) -> dict:
        """Every output of the graph by name (mels, mel_lengths, durations, pitch, ...)."""
        self.check_controls(controls)
        values = self.run_graph(ids, lengths, **self.graph_controls(controls))
        names = [output.name for output in self.session.get_outputs()]
        return dict(zip(names, values, strict=True))

    def generate(self, ids, lengths, controls, seed=None) -> AcousticOutput:
        self.check_controls(controls)
        mels, mel_lengths, durations, *_ = self.run_graph(
            ids, lengths, **self.graph_controls(controls)
        )
        never = np.zeros(len(mel_lengths), dtype=bool)  # no decoder step limit to reach
        return AcousticOutput(
            mels.astype(np.float32),
            mel_lengths.astype(np.int64),
            never,
            durations.astype(np.float32),
        )

    def graph_controls(self, controls: Controls) -> dict[str, float]:
        raise NotImplementedError


class OnnxFastPitch(OnnxParallelModel):
    name = "fastpitch"
    controls: ClassVar[frozenset[str]] = frozenset({"pace", "pitch"})

    def graph_controls(self, controls: Controls) -> dict[str, float]:
        values = {"pace": controls.pace}
        spec = controls.pitch
        if spec is None:
            return values
        if spec.custom is not None:
            raise SpeechSynthError(
                f"{self.source}: an ONNX export takes --pitch-flatten, --pitch-invert, "
                "--pitch-amplify and --pitch-shift; a custom pitch function runs with a PyTorch "
                "checkpoint only"
            )
        return {
            **values,
            "pitch_flatten": float(spec.flatten),
            "pitch_invert": float(spec.invert),
            "pitch_amplify": spec.amplify,
            "pitch_shift_hz": spec.shift_hz,
        }


class OnnxFastSpeech(OnnxParallelModel):
    name = "fastspeech"
    controls: ClassVar[frozenset[str]] = frozenset({"alpha"})

    def graph_controls(self, controls: Controls) -> dict[str, float]:
        return {"alpha": controls.alpha}


def _tacotron2(export: OnnxExport, options: RuntimeOptions) -> AcousticModel:
    from speechsynth.infer.onnx_tacotron2 import OnnxTacotron2

    return OnnxTacotron2(export)


def _waveglow(export: OnnxExport, options: VocoderOptions, runtime: RuntimeOptions) -> Vocoder:
    from speechsynth.infer.onnx_waveglow import OnnxWaveGlowVocoder

    return OnnxWaveGlowVocoder(export, options)


class OnnxRuntime(Runtime):
    name = "onnx"

    def recognises(self, path: Path) -> bool:
        # Any directory: one without a manifest gets read_manifest's "is it an export?" error.
        return path.is_dir()

    def open(self, path: Path, options: RuntimeOptions) -> tuple[str, OnnxExport]:
        export = OnnxExport(path, options)
        return export.model_name, export

    def text_setup(self, path: Path) -> TextSetup:
        return manifest_text_setup(read_manifest(path))

    def acoustic_models(self) -> dict[str, AcousticBuilder]:
        return {
            "tacotron2": _tacotron2,
            "fastpitch": lambda export, options: OnnxFastPitch(export),
            "fastspeech": lambda export, options: OnnxFastSpeech(export),
        }

    def vocoders(self) -> dict[str, VocoderBuilder]:
        return {"waveglow": _waveglow}

    def refuse_options(self, path: Path, options: RuntimeOptions) -> None:
        if options.precision not in ("auto", "fp32") or options.device not in (None, "cpu"):
            raise SpeechSynthError(
                f"{path}: an ONNX export runs in fp32 with ONNX Runtime; choose its execution "
                "providers with --providers, and drop --precision / --device"
            )
