"""What the shared trainer needs to know about one model: the `TrainingTask` protocol."""

from __future__ import annotations

from typing import Any, Protocol

from torch import Tensor, nn
from torch.utils.data import Dataset

from speechsynth.data.formats import Utterance
from speechsynth.train.config import ExperimentConfig


class TrainingTask(Protocol):
    """Model-specific pieces; everything else (loop, AMP, DDP, checkpoints, logs) is shared."""

    model_name: str
    items_unit: str  # what items/s counts, e.g. "mel frames" or "audio samples"
    # This model's recipe where it differs from the dataclass defaults: {"train": {...}, ...}
    default_overrides: dict[str, dict[str, Any]]

    def build_model(self, config: ExperimentConfig) -> nn.Module: ...

    def build_dataset(
        self, utterances: list[Utterance], config: ExperimentConfig, training: bool
    ) -> Dataset:
        """`training` is False for the validation set (no random augmentation there)."""
        ...

    def collate(self, items: list[Any]) -> Any: ...

    def move_batch(self, batch: Any, device: Any) -> Any: ...

    def compute_loss(self, model: nn.Module, batch: Any) -> tuple[Tensor, dict[str, float]]:
        """(loss to back-propagate, named float metrics to log)."""
        ...

    def count_items(self, batch: Any) -> int: ...

    def learning_rate(self, config: ExperimentConfig, epoch: int, step: int) -> float: ...

    # Optional: `start_epoch(config, epoch)`, called before each training epoch (e.g. loss
    # weights that warm up by epoch, as FastPitch's alignment binarisation loss).

    def images(self, model: nn.Module, batch: Any) -> dict[str, Tensor]:
        """[H, W] tensors in [0, 1] for TensorBoard (e.g. alignment, mels), from one val batch."""
        ...
