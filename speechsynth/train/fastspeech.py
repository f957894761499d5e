"""FastSpeech's part in the shared trainer: data, NVIDIA's loss, Adam with Noam warm-up, images.

As NVIDIA's CUDA-Optimized FastSpeech (`fastspeech/train.py`, `trainer/fastspeech_trainer.py`,
`hparams/train.yaml`): the model learns from (symbols, mel, durations) where the durations come
from a Tacotron 2 teacher (`speechsynth prepare durations`, data.durations_dir; NVIDIA's
`align_tacotron2.py`); no pitch. The loss is the masked mel MSE plus the MSE of the predicted
log-durations against log(d + 1); Adam (betas 0.9/0.98, eps 1e-9) follows the Noam schedule

    lr(step) = d_model^-0.5 * min(step^-0.5, step * warmup^-1.5),  warm-up 4,000 steps,

(NVIDIA's LambdaLR divides by its `learning_rate: 0.001` and then multiplies by it again, so
the scale is d_model^-0.5 = 384^-0.5 whatever that setting says; ours is train.learning_rate).
NVIDIA clips no gradients: the recipe's grad_clip_thresh is infinite.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from speechsynth.data.formats import Utterance
from speechsynth.data.text_mel_pitch import (
    TextMelDurationBatch,
    TextMelDurationDataset,
    collate_text_mel_durations,
)
from speechsynth.errors import SpeechSynthError
from speechsynth.models.registry import get_spec
from speechsynth.train.config import ExperimentConfig
from speechsynth.train.losses import fastspeech_loss
from speechsynth.train.schedules import noam_learning_rate
from speechsynth.train.tacotron2 import mel_image

NVIDIA_D_MODEL = 384  # hparams/base.yaml
LJSPEECH_TRAIN_CLIPS = 13_000  # NVIDIA's metadata_train.csv (13,100 clips less 100 for test)
NVIDIA_BATCH_SIZE = 16  # hparams/train.yaml
NVIDIA_FINAL_STEPS = 320_000  # hparams/train.yaml
# NVIDIA counts steps (final_steps) with drop_last batches; we count epochs: 812 steps each.
RECIPE_EPOCHS = round(NVIDIA_FINAL_STEPS / (LJSPEECH_TRAIN_CLIPS // NVIDIA_BATCH_SIZE))

# NVIDIA's FastSpeech recipe (hparams/train.yaml and train.py) where it differs from the defaults.
FASTSPEECH_RECIPE: dict[str, dict[str, Any]] = {
    "train": {
        "epochs": RECIPE_EPOCHS,  # 394
        "batch_size": NVIDIA_BATCH_SIZE,
        "optimizer": "adam",
        "learning_rate": NVIDIA_D_MODEL**-0.5,  # 0.0510..., the Noam scale
        "betas": [0.9, 0.98],
        "eps": 1e-9,
        "weight_decay": 0.0,
        "grad_clip_thresh": math.inf,  # no clipping
        "warmup_steps": 4000,
        "anneal_steps": [],
        "loss_scales": {"duration": 1.0},
    },
    "data": {"p_arpabet": 0.0},
}


class FastSpeechTask:
    model_name = "fastspeech"
    items_unit = "mel frames"
    default_overrides: ClassVar[dict[str, dict[str, Any]]] = FASTSPEECH_RECIPE

    def __init__(self) -> None:
        self.loss_scales: dict[str, float] = dict(FASTSPEECH_RECIPE["train"]["loss_scales"])

    def build_model(self, config: ExperimentConfig) -> nn.Module:
        self.loss_scales = {**self.loss_scales, **config.train.loss_scales}
        return get_spec(self.model_name).build(config.model)

    def build_dataset(
        self, utterances: list[Utterance], config: ExperimentConfig, training: bool
    ) -> TextMelDurationDataset:
        if config.data.p_arpabet != 0:
            raise SpeechSynthError(
                "FastSpeech learns from teacher durations, which count the teacher's symbols "
                f"and never include ARPAbet: set data.p_arpabet=0 (got {config.data.p_arpabet})"
            )
        processor = config.data.text_processor(config.train.seed)
        return TextMelDurationDataset(utterances, processor)

    def collate(self, items: list[Any]) -> TextMelDurationBatch:
        return collate_text_mel_durations(items)

    def move_batch(self, batch: TextMelDurationBatch, device: Any) -> TextMelDurationBatch:
        return batch.to(device)

    def count_items(self, batch: TextMelDurationBatch) -> int:
        return batch.n_frames

    def learning_rate(self, config: ExperimentConfig, epoch: int, step: int) -> float:
        # NVIDIA's LambdaLR gives its k-th optimizer step (k from 1) the factor of step k.
        return noam_learning_rate(config.train.learning_rate, step + 1, config.train.warmup_steps)

    def forward(self, model: nn.Module, batch: TextMelDurationBatch) -> Any:
        """Teacher-forced: the target durations drive the length regulator."""
        return model(batch.text, batch.text_lengths, durations=batch.durations)

    def compute_loss(
        self, model: nn.Module, batch: TextMelDurationBatch
    ) -> tuple[Tensor, dict[str, float]]:
        outputs = self.forward(model, batch)
        loss, parts = fastspeech_loss(
            outputs.mel,
            outputs.log_dur_pred,
            batch.mels,
            batch.text_lengths,
            batch.durations,
            duration_scale=self.loss_scales.get("duration", 1.0),
        )
        return loss, {name: float(value.detach()) for name, value in parts.items()}

    @torch.no_grad()
    def images(self, model: nn.Module, batch: TextMelDurationBatch) -> dict[str, Tensor]:
        outputs = self.forward(model, batch)
        frames = int(batch.mel_lengths[0])
        return {
            "mel_target": mel_image(batch.mels[0, :, :frames]),
            "mel_predicted": mel_image(outputs.mel[0, :frames].T),
        }
