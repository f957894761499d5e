"""Tacotron 2's part in the shared trainer: data, loss, learning rate and TensorBoard images."""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from speechsynth.data.formats import Utterance
from speechsynth.data.text_mel import TextMelBatch, TextMelDataset, collate_text_mel
from speechsynth.errors import SpeechSynthError
from speechsynth.infer.alignment import batch_alignment_scores
from speechsynth.models.registry import get_spec
from speechsynth.train.config import ExperimentConfig
from speechsynth.train.losses import guided_attention_loss, tacotron2_loss
from speechsynth.train.schedules import annealed_learning_rate

LOG_MEL_FLOOR = -11.5129  # ln(1e-5): silence
LOG_MEL_CEILING = 2.0


def forward_with_loss(model: nn.Module, batch: TextMelBatch) -> tuple[Any, tuple[Tensor, ...]]:
    """Teacher-forced forward and NVIDIA's loss -> (outputs, (total, mel part, gate part))."""
    outputs = model(batch.text, batch.text_lengths, batch.mels, batch.mel_lengths)
    losses = tacotron2_loss(
        outputs.mel_outputs,
        outputs.mel_outputs_postnet,
        outputs.gate_outputs,
        batch.mels,
        batch.gate_targets,
    )
    return outputs, losses


class Tacotron2Task:
    model_name = "tacotron2"
    items_unit = "mel frames"
    default_overrides: ClassVar[
        dict[str, dict[str, Any]]
    ] = {}  # the dataclass defaults are its recipe

    def __init__(self) -> None:
        self.guided_attention_weight = 0.0  # NVIDIA's recipe has no guided attention
        self.guided_attention_sigma = 0.4

    def build_model(self, config: ExperimentConfig) -> nn.Module:
        unknown = sorted(set(config.train.loss_scales) - {"guided_attention"})
        if unknown:
            raise SpeechSynthError(
                f"train.loss_scales: Tacotron 2 has no loss term {', '.join(unknown)}; "
                "its only optional term is guided_attention"
            )
        self.guided_attention_weight = config.train.loss_scales.get("guided_attention", 0.0)
        self.guided_attention_sigma = config.train.guided_attention_sigma
        model = get_spec(self.model_name).build(config.model)
        # NVIDIA's train.py builds the model with uniform_initialize_bn_weight=True.
        for module in model.modules():
            if isinstance(module, nn.BatchNorm1d):
                nn.init.uniform_(module.weight)
        return model

    def build_dataset(
        self, utterances: list[Utterance], config: ExperimentConfig, training: bool
    ) -> TextMelDataset:
        processor = config.data.text_processor(config.train.seed)
        return TextMelDataset(utterances, processor)

    def collate(self, items: list[Any]) -> TextMelBatch:
        return collate_text_mel(items)

    def move_batch(self, batch: TextMelBatch, device: Any) -> TextMelBatch:
        return batch.to(device)

    def count_items(self, batch: TextMelBatch) -> int:
        return batch.n_frames

    def learning_rate(self, config: ExperimentConfig, epoch: int, step: int) -> float:
        train = config.train
        return annealed_learning_rate(
            train.learning_rate, epoch, train.anneal_steps, train.anneal_factor
        )

    def compute_loss(
        self, model: nn.Module, batch: TextMelBatch
    ) -> tuple[Tensor, dict[str, float]]:
        outputs, (loss, mel_loss, gate_loss) = forward_with_loss(model, batch)
        scores = batch_alignment_scores(
            outputs.alignments.detach(), batch.mel_lengths, batch.text_lengths
        )
        named = {"mel_loss": float(mel_loss.detach()), "gate_loss": float(gate_loss.detach())}
        if self.guided_attention_weight > 0:
            guided_loss = guided_attention_loss(
                outputs.alignments,
                batch.text_lengths,
                batch.mel_lengths,
                self.guided_attention_sigma,
            )
            loss = loss + self.guided_attention_weight * guided_loss
            named["guided_attention_loss"] = float(guided_loss.detach())
        return loss, {**named, **scores}

    @torch.no_grad()
    def images(self, model: nn.Module, batch: TextMelBatch) -> dict[str, Tensor]:
        """Teacher-forced alignment and mels of the batch's first utterance."""
        outputs = model(batch.text, batch.text_lengths, batch.mels, batch.mel_lengths)
        frames, symbols = int(batch.mel_lengths[0]), int(batch.text_lengths[0])
        return {
            "alignment": outputs.alignments[0, :frames, :symbols].T,
            "mel_target": mel_image(batch.mels[0, :, :frames]),
            "mel_predicted": mel_image(outputs.mel_outputs_postnet[0, :, :frames]),
        }


def mel_image(mel: Tensor) -> Tensor:
    return (mel.float() - LOG_MEL_FLOOR) / (LOG_MEL_CEILING - LOG_MEL_FLOOR)
