"""Run an exported Tacotron 2 (`export_tacotron2`) with ONNX Runtime.

`OnnxTacotron2` drives NVIDIA's host loop — encoder once, `decoder_iter` once per frame until
the gate fires, postnet once — and looks like the PyTorch model to the synthesizer: `infer`
takes padded text ids and returns a `Tacotron2Inference`. Utterances run one at a time, each on
its own unpadded text (the exported encoder has batch 1, as NVIDIA's), so a batch gives each
utterance what it gets alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from speechsynth.errors import SpeechSynthError
from speechsynth.export.onnx_files import (
    MANIFEST_NAME,
    onnx_session,
    read_manifest,
    require_model,
)
from speechsynth.export.parallel_runtime import OnnxFastPitch, OnnxFastSpeech
from speechsynth.export.providers import ProviderSettings
from speechsynth.export.tacotron2 import DECODER_INPUTS, PART_FILES
from speechsynth.models.overrides import config_overridden
from speechsynth.models.registry import (
    SPEECHSYNTH_TEXT_RULES,
    LoadedModel,
    TextSetup,
    load_model,
)
from speechsynth.models.tacotron2 import Tacotron2Config, Tacotron2Inference


def is_onnx_export(path: str | Path) -> bool:
    """True for a directory written by `export_tacotron2` (it holds the manifest)."""
    return (Path(path) / MANIFEST_NAME).is_file()


class OnnxTacotron2(nn.Module):
    """The three exported parts behind the PyTorch model's `infer` interface."""

    def __init__(
        self,
        directory: str | Path,
        threads: int | None = None,
        providers: ProviderSettings | None = None,
    ):
        super().__init__()
        directory = Path(directory)
        manifest = read_manifest(directory)
        require_model(manifest, "tacotron2", directory)
        self.config = Tacotron2Config.from_dict(manifest["model_config"])
        self.prenet_dropout_exported = bool(manifest["prenet_dropout"])
        self.encoder, self.decoder_iter, self.postnet = (
            onnx_session(directory / PART_FILES[part], threads, providers)
            for part in ("encoder", "decoder_iter", "postnet")
        )
        self.directory = directory
        self.manifest = manifest
        self.last_decoder_seconds = 0.0  # the decoder loops' share of the last `infer`

    def timed_infer(self, text: Tensor, steps: int) -> tuple[float, float]:
        """Exactly `steps` decoder steps (gate ignored), for benchmarks -> (seconds of the
        whole call, seconds of its decoder loops)."""
        lengths = torch.full((text.size(0),), text.size(1), dtype=torch.long)
        with config_overridden(self, decoder_no_early_stopping=True):
            started = time.perf_counter()
            self.infer(text, lengths, max_decoder_steps=steps)
            total = time.perf_counter() - started
        return total, self.last_decoder_seconds

    def infer(
        self,
        text: Tensor,
        text_lengths: Tensor,
        *,
        max_decoder_steps: int | None = None,
        generator: torch.Generator | None = None,
    ) -> Tacotron2Inference:
        """Like `Tacotron2.infer`. `generator` is accepted and unused: the exported prenet
        dropout draws inside ONNX Runtime, which cannot be seeded from here."""
        steps = self.config.max_decoder_steps if max_decoder_steps is None else max_decoder_steps
        if steps < 1:
            raise SpeechSynthError(f"max_decoder_steps must be at least 1, got {steps}")
        self.last_decoder_seconds = 0.0
        rows = [
            self._infer_one(ids[: int(length)].cpu().numpy(), steps)
            for ids, length in zip(text, text_lengths, strict=True)
        ]
        return _stack_rows(rows, text.size(1))

    def _infer_one(self, ids: np.ndarray, max_steps: int) -> dict[str, np.ndarray]:
        sequences = ids.astype(np.int64)[None, :]
        memory, processed_memory, _ = self.encoder.run(
            None, {"sequences": sequences, "sequence_lengths": np.array([len(ids)], np.int64)}
        )
        decoder_started = time.perf_counter()
        frames, gates, alignments = self._decode(memory, processed_memory, max_steps)
        self.last_decoder_seconds += time.perf_counter() - decoder_started
        mel_length = _steps_before_stop(gates, self.config.gate_threshold)
        stopped = mel_length < len(gates)
        # As `Tacotron2.infer`: frames after the stop frame are zeros, also for the postnet.
        made = mel_length + 1 if stopped else len(frames)
        mel = np.stack(frames, axis=1)[None].astype(np.float32)  # [1, n_mel, T]
        mel[:, :, made:] = 0.0
        (mel_postnet,) = self.postnet.run(None, {"mel_outputs": mel[:, :, :made]})
        alignment = np.stack(alignments)
        alignment[made:] = 0.0
        return {
            "mel_outputs": mel[0],
            "mel_outputs_postnet": np.pad(mel_postnet[0], ((0, 0), (0, len(frames) - made))),
            "gate_outputs": np.array(gates, np.float32),
            "alignments": alignment,
            "mel_length": mel_length,
            "stopped": stopped,
        }

    def _decode(
        self, memory: np.ndarray, processed_memory: np.ndarray, max_steps: int
    ) -> tuple[list[np.ndarray], list[float], list[np.ndarray]]:
        """NVIDIA's host loop: decoder_iter until the gate fires -> (frames [n_mel], gate
        logits, attention weights [T_in])."""
        feeds = self._initial_feeds(memory, processed_memory)
        state_names = DECODER_INPUTS[1:8]  # what the out_* outputs feed back, in order
        frames, gates, alignments = [], [], []
        for _ in range(max_steps):
            frame, gate, *state = self.decoder_iter.run(None, feeds)
            feeds.update(zip(state_names, state, strict=True))
            feeds["decoder_input"] = frame
            frames.append(frame[0])
            gates.append(float(gate[0, 0]))
            alignments.append(feeds["attention_weights"][0])
            fired = _sigmoid(gates[-1]) > self.config.gate_threshold
            if fired and not self.config.decoder_no_early_stopping:
                break
        return frames, gates, alignments

    def _initial_feeds(self, memory: np.ndarray, processed_memory: np.ndarray) -> dict:
        config = self.config
        text_length = memory.shape[1]

        def zeros(*shape: int) -> np.ndarray:
            return np.zeros(shape, np.float32)

        return {
            "decoder_input": zeros(1, config.n_mel_channels),
            "attention_hidden": zeros(1, config.attention_rnn_dim),
            "attention_cell": zeros(1, config.attention_rnn_dim),
            "decoder_hidden": zeros(1, config.decoder_rnn_dim),
            "decoder_cell": zeros(1, config.decoder_rnn_dim),
            "attention_weights": zeros(1, text_length),
            "attention_weights_cum": zeros(1, text_length),
            "attention_context": zeros(1, config.encoder_embedding_dim),
            "memory": memory,
            "processed_memory": processed_memory,
            "mask": np.zeros((1, text_length), dtype=bool),
        }


def _sigmoid(logit: float) -> float:
    return float(1.0 / (1.0 + np.exp(-logit)))


def _steps_before_stop(gates: list[float], threshold: float) -> int:
    """Frames before the gate first fires (all of them if it never does), as `infer` counts."""
    for index, logit in enumerate(gates):
        if _sigmoid(logit) > threshold:
            return index
    return len(gates)


def _stack_rows(rows: list[dict[str, np.ndarray]], text_width: int) -> Tacotron2Inference:
    """Per-utterance results -> padded batch tensors (zeros past each utterance's frames)."""
    n_frames = max(row["mel_outputs"].shape[1] for row in rows)
    batch, n_mels = len(rows), rows[0]["mel_outputs"].shape[0]
    mel = torch.zeros(batch, n_mels, n_frames)
    mel_postnet = torch.zeros(batch, n_mels, n_frames)
    gates = torch.zeros(batch, n_frames)
    alignments = torch.zeros(batch, n_frames, text_width)
    for index, row in enumerate(rows):
        frames, symbols = row["alignments"].shape
        mel[index, :, :frames] = torch.from_numpy(row["mel_outputs"])
        mel_postnet[index, :, :frames] = torch.from_numpy(row["mel_outputs_postnet"])
        gates[index, :frames] = torch.from_numpy(row["gate_outputs"])
        alignments[index, :frames, :symbols] = torch.from_numpy(row["alignments"])
    return Tacotron2Inference(
        mel_outputs_postnet=mel_postnet,
        mel_lengths=torch.tensor([row["mel_length"] for row in rows], dtype=torch.int32),
        alignments=alignments,
        reached_max_decoder_steps=torch.tensor([not row["stopped"] for row in rows]),
        mel_outputs=mel,
        gate_outputs=gates,
    )


# Exported acoustic models by the manifest's model_name: each class takes (directory, threads,
# providers) and offers its PyTorch model's `infer` and `config`.
ONNX_MODELS: dict[str, Callable[[Path, int | None, ProviderSettings | None], Any]] = {
    "tacotron2": OnnxTacotron2,
    "fastpitch": OnnxFastPitch,
    "fastspeech": OnnxFastSpeech,
}


def load_onnx_export(
    directory: str | Path,
    threads: int | None = None,
    providers: ProviderSettings | None = None,
) -> LoadedModel:
    """An exported acoustic model as a `LoadedModel`, ready for `Synthesizer`, on `providers`
    (default: the best execution provider installed)."""
    directory = Path(directory)
    threads = threads or torch.get_num_threads()  # as many as torch uses (OMP_NUM_THREADS)
    manifest = read_manifest(directory)
    name = manifest.get("model_name")
    if name not in ONNX_MODELS:
        raise SpeechSynthError(
            f"{directory / MANIFEST_NAME}: an export of {name!r}; speechsynth runs exports of "
            f"{', '.join(ONNX_MODELS)}"
        )
    model = ONNX_MODELS[name](directory, threads, providers)
    return LoadedModel(name, model.config, model, directory, "onnx", *manifest_text_setup(manifest))


def manifest_text_setup(manifest: dict[str, Any]) -> TextSetup:
    return TextSetup(
        tuple(manifest["text_cleaners"]),
        float(manifest["p_arpabet"]),
        str(manifest.get("text_rules", SPEECHSYNTH_TEXT_RULES)),  # exports older than text_rules
    )


def text_setup_of(path: str | Path) -> TextSetup:
    """How the model at `path` reads text: a checkpoint (ours or NVIDIA's) or an export."""
    path = Path(path)
    if is_onnx_export(path):
        return manifest_text_setup(read_manifest(path))
    return load_model(path).text_setup
