"""Run an exported FastPitch or FastSpeech (`export.parallel`) with ONNX Runtime.

`OnnxFastPitch` and `OnnxFastSpeech` look like the PyTorch models to the synthesizer: `infer`
takes padded text ids and the model's controls and returns the same named outputs. FastPitch's
pitch transforms reach the graph as tensors; a custom Python pitch function cannot (it runs with
PyTorch checkpoints only).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from speechsynth.errors import SpeechSynthError
from speechsynth.export.onnx_files import onnx_session, read_manifest, require_model
from speechsynth.export.parallel import NEUTRAL_CONTROLS, TEXT_INPUTS
from speechsynth.export.providers import ProviderSettings
from speechsynth.models.fastpitch import FastPitchInference
from speechsynth.models.fastspeech import FastSpeechInference
from speechsynth.models.registry import get_spec


class OnnxParallelModel:
    """One exported graph: padded text and tensor controls in, named outputs out."""

    model_name = ""

    def __init__(
        self,
        directory: str | Path,
        threads: int | None = None,
        providers: ProviderSettings | None = None,
    ) -> None:
        directory = Path(directory)
        manifest = read_manifest(directory)
        require_model(manifest, self.model_name, directory)
        self.directory = directory
        self.manifest = manifest
        self.config = get_spec(self.model_name).make_config(manifest["model_config"])
        self.session = onnx_session(directory / manifest["files"]["model"], threads, providers)

    def eval(self) -> OnnxParallelModel:
        return self  # already an inference graph; here so the synthesizer can treat it alike

    def run(self, text: Tensor, text_lengths: Tensor, **controls: float) -> list[Tensor]:
        feeds = {
            "text": text.cpu().numpy().astype(np.int64),
            "text_lengths": text_lengths.cpu().numpy().astype(np.int64),
        }
        for name in self.manifest["inputs"][len(TEXT_INPUTS) :]:  # unset: its neutral value
            value = controls.get(name, NEUTRAL_CONTROLS[name])
            feeds[name] = np.array([value], dtype=np.float32)
        return [torch.from_numpy(output) for output in self.session.run(None, feeds)]


class OnnxFastPitch(OnnxParallelModel):
    model_name = "fastpitch"

    def infer(
        self,
        text: Tensor,
        text_lengths: Tensor,
        pace: float = 1.0,
        pitch_transform: Any = None,
    ) -> FastPitchInference:
        """Like `FastPitch.infer` (`pitch_transform` built by `build_pitch_transform`)."""
        mels, mel_lengths, durations, pitch = self.run(
            text, text_lengths, pace=pace, **self._pitch_controls(pitch_transform)
        )
        return FastPitchInference(mels, mel_lengths, durations, pitch, None)

    def _pitch_controls(self, pitch_transform: Any) -> dict[str, float]:
        if pitch_transform is None:
            return {}
        spec = getattr(pitch_transform, "spec", None)
        if spec is None or spec.custom is not None:
            raise SpeechSynthError(
                f"{self.directory}: an ONNX export takes --pitch-flatten, --pitch-invert, "
                "--pitch-amplify and --pitch-shift; a custom pitch function runs with a PyTorch "
                "checkpoint only"
            )
        return {
            "pitch_flatten": float(spec.flatten),
            "pitch_invert": float(spec.invert),
            "pitch_amplify": spec.amplify,
            "pitch_shift_hz": spec.shift_hz,
        }


class OnnxFastSpeech(OnnxParallelModel):
    model_name = "fastspeech"

    def infer(self, text: Tensor, text_lengths: Tensor, alpha: float = 1.0) -> FastSpeechInference:
        """Like `FastSpeech.infer`."""
        mels, mel_lengths, durations = self.run(text, text_lengths, alpha=alpha)
        return FastSpeechInference(mels, mel_lengths, durations)
