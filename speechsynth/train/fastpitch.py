"""FastPitch's part in the shared trainer: data, NVIDIA's loss, LAMB with warm-up, images.

Durations come from the model's learned aligner (FastPitch 1.1, `model.learned_aligner=true`,
the default) or from a Tacotron 2 teacher (FastPitch 1.0, `--aligner teacher`: data.durations_dir
from `prepare durations`). Pitch comes from `prepare pitch` (data.pitch_dir); its mean and std
(pitch_stats.json there, or data.pitch_mean / data.pitch_std) normalise the targets and are
copied into the model's `pitch_mean` / `pitch_std` buffers, as NVIDIA's train.py does.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from speechsynth.data.formats import Utterance
from speechsynth.data.text_mel_pitch import FastPitchBatch, FastPitchDataset, collate_fastpitch
from speechsynth.errors import SpeechSynthError
from speechsynth.models.fastpitch import LJSPEECH_PITCH_MEAN, LJSPEECH_PITCH_STD
from speechsynth.models.registry import get_spec
from speechsynth.train.config import DataConfig, ExperimentConfig
from speechsynth.train.losses import (
    attention_binarization_loss,
    binarization_loss_weight,
    fastpitch_loss,
)
from speechsynth.train.schedules import noam_learning_rate
from speechsynth.train.tacotron2 import mel_image

log = logging.getLogger(__name__)

PITCH_STATS_NAME = "pitch_stats.json"

# NVIDIA's FastPitch recipe (scripts/train.sh, per GPU) where it differs from the defaults.
FASTPITCH_RECIPE: dict[str, dict[str, Any]] = {
    "train": {
        "epochs": 1000,
        "batch_size": 16,
        "grad_accumulation": 2,
        "optimizer": "lamb",
        "learning_rate": 0.1,
        "betas": [0.9, 0.98],
        "eps": 1e-9,
        "weight_decay": 1e-6,
        "grad_clip_thresh": 1000.0,
        "warmup_steps": 1000,
        "anneal_steps": [],
        "epochs_per_checkpoint": 100,
        "loss_scales": {
            "duration": 0.1,
            "pitch": 0.1,
            "energy": 0.1,
            "attention": 1.0,
            "binarization": 1.0,
        },
    },
    "data": {"p_arpabet": 1.0},
}


def pitch_statistics(data: DataConfig) -> tuple[float, float]:
    """(mean, std) in Hz: data.pitch_mean/std, else pitch_stats.json beside the pitch files,
    else NVIDIA's LJSpeech values (with a warning: they fit only LJSpeech-like voices)."""
    if data.pitch_mean > 0 and data.pitch_std > 0:
        return data.pitch_mean, data.pitch_std
    stats_path = Path(data.pitch_dir) / PITCH_STATS_NAME if data.pitch_dir else None
    if stats_path is not None and stats_path.is_file():
        try:
            stats = json.loads(stats_path.read_text(encoding="utf-8"))
            return float(stats["mean"]), float(stats["std"])
        except (ValueError, KeyError, TypeError) as error:
            raise SpeechSynthError(
                f"{stats_path}: unreadable pitch statistics ({error}); rerun "
                "`speechsynth prepare pitch`"
            ) from None
    log.warning(
        "no pitch statistics (data.pitch_mean/pitch_std or %s): using LJSpeech's %.2f / %.2f Hz",
        PITCH_STATS_NAME,
        LJSPEECH_PITCH_MEAN,
        LJSPEECH_PITCH_STD,
    )
    return LJSPEECH_PITCH_MEAN, LJSPEECH_PITCH_STD


class FastPitchTask:
    model_name = "fastpitch"
    items_unit = "mel frames"
    default_overrides: ClassVar[dict[str, dict[str, Any]]] = FASTPITCH_RECIPE

    def __init__(self) -> None:
        self.binarization_weight = 0.0
        self.loss_scales: dict[str, float] = dict(FASTPITCH_RECIPE["train"]["loss_scales"])

    def build_model(self, config: ExperimentConfig) -> nn.Module:
        self.loss_scales = {**self.loss_scales, **config.train.loss_scales}
        model = get_spec(self.model_name).build(config.model)
        mean, std = pitch_statistics(config.data)
        model.pitch_mean.fill_(mean)
        model.pitch_std.fill_(std)
        attention = getattr(model, "attention", None)
        if attention is not None:
            # NVIDIA's aligner defines attn_proj but never uses it: frozen, so that DDP does not
            # wait for gradients that never come.
            attention.attn_proj.requires_grad_(False)
        return model

    def build_dataset(
        self, utterances: list[Utterance], config: ExperimentConfig, training: bool
    ) -> FastPitchDataset:
        teacher = not config.model.learned_aligner
        if teacher and config.data.p_arpabet != 0:
            raise SpeechSynthError(
                "teacher durations count the teacher's symbols, which never include ARPAbet: "
                "set data.p_arpabet=0 (or train with the learned aligner)"
            )
        processor = config.data.text_processor(config.train.seed)
        mean, std = pitch_statistics(config.data)
        source = "teacher" if teacher else "aligner"
        return FastPitchDataset(utterances, processor, mean, std, source)

    def collate(self, items: list[Any]) -> FastPitchBatch:
        return collate_fastpitch(items)

    def move_batch(self, batch: FastPitchBatch, device: Any) -> FastPitchBatch:
        return batch.to(device)

    def count_items(self, batch: FastPitchBatch) -> int:
        return batch.n_frames

    def learning_rate(self, config: ExperimentConfig, epoch: int, step: int) -> float:
        return noam_learning_rate(config.train.learning_rate, step + 1, config.train.warmup_steps)

    def start_epoch(self, config: ExperimentConfig, epoch: int) -> None:
        train = config.train
        self.binarization_weight = binarization_loss_weight(
            epoch,
            train.binarization_start_epoch,
            train.binarization_warmup_epochs,
            train.loss_scales.get("binarization", 1.0),
        )

    def forward(self, model: nn.Module, batch: FastPitchBatch) -> Any:
        return model(
            batch.text,
            batch.text_lengths,
            batch.mels,
            batch.mel_lengths,
            batch.pitch,
            energy=batch.energy,
            durations=batch.durations,
            attn_prior=batch.attn_prior,
        )

    def compute_loss(
        self, model: nn.Module, batch: FastPitchBatch
    ) -> tuple[Tensor, dict[str, float]]:
        outputs = self.forward(model, batch)
        durations = batch.durations if batch.durations is not None else outputs.attn_hard_dur
        config_scales = self.loss_scales
        loss, parts = fastpitch_loss(
            outputs,
            batch.mels,
            batch.text_lengths,
            durations,
            duration_scale=config_scales.get("duration", 0.1),
            pitch_scale=config_scales.get("pitch", 0.1),
            energy_scale=config_scales.get("energy", 0.1),
            attention_scale=config_scales.get("attention", 1.0),
            mel_lengths=batch.mel_lengths,
        )
        if outputs.attn_hard is not None:
            binarization = attention_binarization_loss(outputs.attn_hard, outputs.attn_soft)
            parts["binarization_loss"] = binarization
            if self.binarization_weight > 0:
                loss = loss + self.binarization_weight * binarization
        return loss, {name: float(value.detach()) for name, value in parts.items()}

    @torch.no_grad()
    def images(self, model: nn.Module, batch: FastPitchBatch) -> dict[str, Tensor]:
        outputs = self.forward(model, batch)
        frames, symbols = int(batch.mel_lengths[0]), int(batch.text_lengths[0])
        images = {
            "mel_target": mel_image(batch.mels[0, :, :frames]),
            "mel_predicted": mel_image(outputs.mel_out[0, :frames].T),
        }
        if outputs.attn_soft is not None:
            images["alignment"] = outputs.attn_soft[0, 0, :frames, :symbols].T
        return images
