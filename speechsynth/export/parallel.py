"""FastPitch and FastSpeech to ONNX: one graph each, every control a tensor input.

- FastPitch 1.0 / 1.1: `text` [B, L] int64 (right-padded with 0), `text_lengths` [B] int64,
  `pace` [1] (> 1 speaks faster) and NVIDIA's pitch transforms as tensors, applied in NVIDIA's
  order — `pitch_flatten` [1] (1 = monotone), `pitch_invert` [1] (1 = mirrored),
  `pitch_amplify` [1] (1 = unchanged), `pitch_shift_hz` [1] (0 = unchanged). Outputs `mels`
  [B, 80, T], `mel_lengths` [B], `durations` [B, L] (frames, before pace and rounding) and
  `pitch` (normalised, after the transforms). A model with energy conditioning predicts it
  inside the graph. (NVIDIA's own export cannot take the pitch transforms: they are Python
  callables there, DeepLearningExamples issues #860 and #1125.)
- FastSpeech: `text`, `text_lengths` and `alpha` [1] (> 1 speaks slower) -> `mels`,
  `mel_lengths`, `durations`.

Batch and text length are dynamic; the number of frames T is computed inside the graph from the
predicted durations. Each utterance in a batch gets what it gets alone (the models' padding-
invariant inference). The `speechsynth_onnx.json` manifest records the model, its text setup
and each control input with its neutral value.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import torch
from torch import Tensor, nn

from speechsynth.errors import SpeechSynthError
from speechsynth.export.onnx_files import (
    DEFAULT_OPSET,
    export_graph,
    model_manifest,
    staged_directory,
)
from speechsynth.models.export_manifest import MANIFEST_NAME, write_manifest
from speechsynth.models.fastpitch import FastPitch
from speechsynth.models.fastspeech import FastSpeech
from speechsynth.models.registry import LoadedModel

GRAPH_FILE = "model.onnx"
TEXT_INPUTS = ("text", "text_lengths")
FASTPITCH_CONTROLS = ("pace", "pitch_flatten", "pitch_invert", "pitch_amplify", "pitch_shift_hz")
FASTPITCH_OUTPUTS = ("mels", "mel_lengths", "durations", "pitch")
FASTSPEECH_CONTROLS = ("alpha",)
FASTSPEECH_OUTPUTS = ("mels", "mel_lengths", "durations")
# The value of each control that changes nothing.
NEUTRAL_CONTROLS = {
    "pace": 1.0,
    "pitch_flatten": 0.0,
    "pitch_invert": 0.0,
    "pitch_amplify": 1.0,
    "pitch_shift_hz": 0.0,
    "alpha": 1.0,
}
MAX_BATCH, MAX_TEXT = 1024, 4096


def nvidia_pitch_steps(
    pitch: Tensor, std: Tensor, flatten: Tensor, invert: Tensor, amplify: Tensor, shift_hz: Tensor
) -> Tensor:
    """NVIDIA's flatten (x0), invert (x-1), amplify (xA), shift (+Hz/std), each a tensor; a
    neutral value multiplies by 1 or adds 0, which is exact, so every step can always run."""
    pitch = pitch * (1.0 - flatten)
    pitch = pitch * (1.0 - 2.0 * invert)
    pitch = pitch * amplify
    return pitch + shift_hz / std


class FastPitchForExport(nn.Module):
    def __init__(self, model: FastPitch):
        super().__init__()
        self.model = model

    def forward(
        self,
        text: Tensor,
        text_lengths: Tensor,
        pace: Tensor,
        pitch_flatten: Tensor,
        pitch_invert: Tensor,
        pitch_amplify: Tensor,
        pitch_shift_hz: Tensor,
    ) -> tuple[Tensor, ...]:
        def transform(pitch: Tensor, lengths: Tensor, mean: Tensor, std: Tensor) -> Tensor:
            return nvidia_pitch_steps(
                pitch, std, pitch_flatten, pitch_invert, pitch_amplify, pitch_shift_hz
            )

        output = self.model.infer(text, text_lengths, pace=pace, pitch_transform=transform)
        return output.mels, output.mel_lengths, output.durations_pred, output.pitch_pred


class FastSpeechForExport(nn.Module):
    def __init__(self, model: FastSpeech):
        super().__init__()
        self.model = model

    def forward(self, text: Tensor, text_lengths: Tensor, alpha: Tensor) -> tuple[Tensor, ...]:
        output = self.model.infer(text, text_lengths, alpha=alpha)
        return output.mels, output.mel_lengths, output.durations_pred


def _example_text() -> tuple[Tensor, Tensor]:
    # Batch 2 of different lengths: a size-1 example would fix the batch axis at 1.
    return torch.randint(1, 100, (2, 24)), torch.tensor([24, 17])


def _controls(names: tuple[str, ...]) -> tuple[Tensor, ...]:
    # One tensor each: the exporter would merge inputs given as the same tensor object.
    return tuple(torch.tensor([NEUTRAL_CONTROLS[name]]) for name in names)


class GraphSpec(NamedTuple):
    wrapper: type[nn.Module]  # the model -> a module whose forward takes the graph's inputs
    controls: tuple[str, ...]
    outputs: tuple[str, ...]


GRAPHS: dict[str, GraphSpec] = {
    "fastpitch": GraphSpec(FastPitchForExport, FASTPITCH_CONTROLS, FASTPITCH_OUTPUTS),
    "fastspeech": GraphSpec(FastSpeechForExport, FASTSPEECH_CONTROLS, FASTSPEECH_OUTPUTS),
}


def export_parallel(
    loaded: LoadedModel, output_dir: str | Path, opset: int = DEFAULT_OPSET
) -> dict[str, Any]:
    """Write a FastPitch or FastSpeech as model.onnx plus the manifest to `output_dir` (all or
    nothing) -> a summary: directory, files, opset."""
    if loaded.name not in GRAPHS:
        raise SpeechSynthError(
            f"{loaded.source}: a {loaded.name} checkpoint; this export takes {', '.join(GRAPHS)}"
        )
    graph = GRAPHS[loaded.name]
    module = graph.wrapper(loaded.model.float().eval())
    batch = torch.export.Dim("batch", min=1, max=MAX_BATCH)
    text_length = torch.export.Dim("text_len", min=2, max=MAX_TEXT)
    names = TEXT_INPUTS + graph.controls
    dynamic: dict[str, Any] = {"text": {0: batch, 1: text_length}, "text_lengths": {0: batch}}
    dynamic.update({name: None for name in graph.controls})
    files = {"model": GRAPH_FILE}
    with staged_directory(output_dir, MANIFEST_NAME) as staging:
        inputs = (*_example_text(), *_controls(graph.controls))
        export_graph(module, inputs, staging / GRAPH_FILE, names, graph.outputs, dynamic, opset)
        # The runtime feeds each control input its neutral value unless asked otherwise.
        controls = {name: NEUTRAL_CONTROLS[name] for name in graph.controls}
        manifest = model_manifest(
            loaded, files, opset, inference_defaults=controls, control_inputs=controls
        )
        write_manifest(staging, manifest)
    return {"directory": str(output_dir), "files": files, "opset": opset}
