"""WaveGlow's part in the shared trainer: random audio segments, the flow's NLL, a constant rate."""

from __future__ import annotations

from typing import Any, ClassVar

from torch import Tensor, nn

from speechsynth.data.audio_mel import AudioMelBatch, AudioMelDataset, collate_audio_mel
from speechsynth.data.formats import Utterance
from speechsynth.models.registry import get_spec
from speechsynth.train.config import ExperimentConfig
from speechsynth.train.losses import waveglow_loss
from speechsynth.train.schedules import annealed_learning_rate
from speechsynth.train.tacotron2 import mel_image

TRAINING_SIGMA = 1.0  # NVIDIA's WaveGlowLoss(sigma=1.0)


class WaveGlowTask:
    model_name = "waveglow"
    items_unit = "audio samples"
    # NVIDIA's scripts/train_waveglow.sh: -lr 1e-4 -bs 4 --segment-length 8000 --weight-decay 0
    # --grad-clip-thresh 3.4028234663852886e+38 (no clipping), --epochs 1001, no annealing.
    default_overrides: ClassVar[dict[str, dict[str, Any]]] = {
        "train": {
            "learning_rate": 1e-4,
            "weight_decay": 0.0,
            "batch_size": 4,
            "epochs": 1001,
            "grad_clip_thresh": 3.4028234663852886e38,
            "anneal_steps": [],
        },
        "data": {"segment_length": 8000},
    }

    def build_model(self, config: ExperimentConfig) -> nn.Module:
        return get_spec(self.model_name).build(config.model)

    def build_dataset(
        self, utterances: list[Utterance], config: ExperimentConfig, training: bool
    ) -> AudioMelDataset:
        return AudioMelDataset(utterances, config.data.segment_length, random_segments=training)

    def collate(self, items: list[Any]) -> AudioMelBatch:
        return collate_audio_mel(items)

    def move_batch(self, batch: AudioMelBatch, device: Any) -> AudioMelBatch:
        return batch.to(device)

    def count_items(self, batch: AudioMelBatch) -> int:
        return batch.n_samples

    def learning_rate(self, config: ExperimentConfig, epoch: int, step: int) -> float:
        train = config.train
        return annealed_learning_rate(
            train.learning_rate, epoch, train.anneal_steps, train.anneal_factor
        )

    def compute_loss(
        self, model: nn.Module, batch: AudioMelBatch
    ) -> tuple[Tensor, dict[str, float]]:
        z, log_s_list, log_det_w_list = model(batch.mels, batch.audio)
        loss = waveglow_loss(z, log_s_list, log_det_w_list, TRAINING_SIGMA)
        return loss, {}

    def images(self, model: nn.Module, batch: AudioMelBatch) -> dict[str, Tensor]:
        return {"mel_input": mel_image(batch.mels[0])}
