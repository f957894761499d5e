"""An exported Tacotron 2 (NVIDIA's encoder / decoder_iter / postnet split) run by ONNX Runtime.

NVIDIA's host loop: the encoder once, `decoder_iter` once per frame until the gate fires, the
postnet once. Each `out_<state>` output of a decoder step feeds the `<state>` input of the next.
Utterances run one at a time, each on its own unpadded text (the exported encoder has batch 1,
as NVIDIA's), so a batch gives each utterance what it gets alone.
"""

from __future__ import annotations

import logging
import time
from typing import Any, ClassVar

import numpy as np

from speechsynth.errors import SpeechSynthError
from speechsynth.infer.acoustic import AcousticOutput, Controls
from speechsynth.infer.onnx_runtime import OnnxAcousticModel, OnnxExport

log = logging.getLogger(__name__)

STATE_PREFIX = "out_"


class OnnxTacotron2(OnnxAcousticModel):
    name = "tacotron2"
    controls: ClassVar[frozenset[str]] = frozenset({"max_decoder_steps", "gate_threshold"})

    def __init__(self, export: OnnxExport) -> None:
        super().__init__(export)
        self.prenet_dropout_exported = bool(self.manifest.get("prenet_dropout", False))
        self.encoder = export.session("encoder")
        self.decoder_iter = export.session("decoder_iter")
        self.postnet = export.session("postnet")
        outputs = [output.name for output in self.decoder_iter.get_outputs()]
        # decoder_output, gate_prediction, then out_<state> for each state input
        self.state_names = [name.removeprefix(STATE_PREFIX) for name in outputs[2:]]
        self.last_decoder_seconds = 0.0  # the decoder loops' share of the last `generate`
        self._warned_unseeded = False

    def providers(self) -> list[str]:
        return list(self.decoder_iter.get_providers())

    def decoder_step_limit(self, controls: Controls) -> int:
        return controls.max_decoder_steps or int(self.config["max_decoder_steps"])

    def gate_threshold(self, controls: Controls) -> float | None:
        if controls.gate_threshold is not None:
            return controls.gate_threshold
        return float(self.config["gate_threshold"])

    def generate(self, ids, lengths, controls, seed=None) -> AcousticOutput:
        """`seed` is accepted and unused: the exported prenet dropout draws inside ONNX
        Runtime, which cannot be seeded from here."""
        self.check_controls(controls)
        if seed is not None and self.prenet_dropout_exported and not self._warned_unseeded:
            self._warned_unseeded = True
            log.warning(
                "%s: the exported prenet dropout draws inside ONNX Runtime, which --seed cannot "
                "seed; export with --no-prenet-dropout for repeatable output",
                self.source,
            )
        return self.run_loop(ids, lengths, controls, stop_at_gate=True)

    def run_loop(
        self, ids: np.ndarray, lengths: np.ndarray, controls: Controls, stop_at_gate: bool
    ) -> AcousticOutput:
        return _stack_rows(self.decode_utterances(ids, lengths, controls, stop_at_gate))

    def decode_utterances(
        self, ids: np.ndarray, lengths: np.ndarray, controls: Controls, stop_at_gate: bool = True
    ) -> list[dict[str, Any]]:
        """Each utterance's outputs as `Tacotron2.infer` names them (unpadded): mel_outputs,
        mel (after the postnet), gate_outputs, alignments, mel_length, stopped."""
        steps = self.decoder_step_limit(controls)
        threshold = self.gate_threshold(controls)
        self.last_decoder_seconds = 0.0
        return [
            self._infer_one(np.asarray(row[: int(length)]), steps, threshold, stop_at_gate)
            for row, length in zip(ids, lengths, strict=True)
        ]

    def timed_run(self, ids: np.ndarray, steps: int) -> tuple[float, float]:
        """Exactly `steps` decoder steps (gate ignored), for benchmarks -> (seconds of the
        whole call, seconds of its decoder loops)."""
        lengths = np.full(len(ids), ids.shape[1], dtype=np.int64)
        started = time.perf_counter()
        self.run_loop(ids, lengths, Controls(max_decoder_steps=steps), stop_at_gate=False)
        return time.perf_counter() - started, self.last_decoder_seconds

    def _infer_one(
        self, ids: np.ndarray, max_steps: int, threshold: float, stop_at_gate: bool
    ) -> dict[str, Any]:
        if len(ids) == 0:
            raise SpeechSynthError("an utterance has no symbols to read")
        sequences = ids.astype(np.int64)[None, :]
        memory, processed_memory, _ = self.encoder.run(
            None, {"sequences": sequences, "sequence_lengths": np.array([len(ids)], np.int64)}
        )
        started = time.perf_counter()
        frames, gates, alignments = self._decode(
            memory, processed_memory, max_steps, threshold, stop_at_gate
        )
        self.last_decoder_seconds += time.perf_counter() - started
        mel_length = _steps_before_stop(gates, threshold)
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
            "mel": np.pad(mel_postnet[0], ((0, 0), (0, len(frames) - made))),
            "gate_outputs": np.array(gates, np.float32),
            "alignments": alignment,
            "mel_length": mel_length,
            "stopped": stopped,
        }

    def _decode(
        self,
        memory: np.ndarray,
        processed_memory: np.ndarray,
        max_steps: int,
        threshold: float,
        stop_at_gate: bool,
    ) -> tuple[list[np.ndarray], list[float], list[np.ndarray]]:
        """decoder_iter until the gate fires -> (frames [n_mel], gate logits, attention
        weights [T_in])."""
        feeds = self._initial_feeds(memory, processed_memory)
        frames, gates, alignments = [], [], []
        for _ in range(max_steps):
            frame, gate, *state = self.decoder_iter.run(None, feeds)
            feeds.update(zip(self.state_names, state, strict=True))
            feeds["decoder_input"] = frame
            frames.append(frame[0])
            gates.append(float(gate[0, 0]))
            alignments.append(feeds["attention_weights"][0])
            if stop_at_gate and _sigmoid(gates[-1]) > threshold:
                break
        return frames, gates, alignments

    def _initial_feeds(self, memory: np.ndarray, processed_memory: np.ndarray) -> dict:
        config = self.config
        text_length = memory.shape[1]

        def zeros(*shape: int) -> np.ndarray:
            return np.zeros(shape, np.float32)

        return {
            "decoder_input": zeros(1, config["n_mel_channels"]),
            "attention_hidden": zeros(1, config["attention_rnn_dim"]),
            "attention_cell": zeros(1, config["attention_rnn_dim"]),
            "decoder_hidden": zeros(1, config["decoder_rnn_dim"]),
            "decoder_cell": zeros(1, config["decoder_rnn_dim"]),
            "attention_weights": zeros(1, text_length),
            "attention_weights_cum": zeros(1, text_length),
            "attention_context": zeros(1, config["encoder_embedding_dim"]),
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


def _stack_rows(rows: list[dict[str, Any]]) -> AcousticOutput:
    """Per-utterance results -> a padded batch (zeros past each utterance's frames)."""
    n_frames = max(row["mel"].shape[1] for row in rows)
    mels = np.zeros((len(rows), rows[0]["mel"].shape[0], n_frames), np.float32)
    for index, row in enumerate(rows):
        mels[index, :, : row["mel"].shape[1]] = row["mel"]
    return AcousticOutput(
        mels,
        np.array([row["mel_length"] for row in rows], dtype=np.int64),
        np.array([not row["stopped"] for row in rows], dtype=bool),
    )
