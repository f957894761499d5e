"""The PyTorch backends: checkpoints (ours and NVIDIA's) behind the acoustic-model and vocoder
interfaces (`torch_runtime` registers them)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch

from speechsynth.errors import SpeechSynthError
from speechsynth.infer.acoustic import AcousticModel, AcousticOutput, Controls
from speechsynth.infer.pitch_transforms import build_pitch_transform
from speechsynth.infer.precision import prepare_for_inference, resolve_precision
from speechsynth.infer.runtimes import RuntimeOptions
from speechsynth.infer.vocoder_interface import Vocoder, VocoderOptions
from speechsynth.infer.vocoders import HIFIGAN_DENOISER_STRENGTH, HiFiGanVocoder, WaveGlowVocoder
from speechsynth.models.denoiser import DEFAULT_STRENGTH
from speechsynth.models.overrides import config_overridden
from speechsynth.models.registry import LoadedModel
from speechsynth.models.waveglow import DEFAULT_SIGMA


def choose_device(name: str | None) -> torch.device:
    """`name` as a device (None: cuda when available, else cpu), with one-line errors."""
    if name is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise SpeechSynthError(
            f"--device {name!r}: not a device; use cpu, cuda or cuda:N"
        ) from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SpeechSynthError(f"--device {name}: no CUDA GPU is available here; use cpu")
    return device


class TorchAcousticModel(AcousticModel):
    """A loaded checkpoint's network on a device, at a precision."""

    runtime = "pytorch"

    def __init__(self, loaded: LoadedModel, options: RuntimeOptions | None = None) -> None:
        super().__init__(loaded.config, loaded.text_setup, loaded.source)
        options = options or RuntimeOptions()
        self.loaded = loaded
        self.device = choose_device(options.device)
        model = loaded.model.to(self.device)
        self.precision = resolve_precision(model, options.precision, self.device)
        self.model = prepare_for_inference(model, self.precision)

    def generate(
        self,
        ids: np.ndarray,
        lengths: np.ndarray,
        controls: Controls,
        seed: int | None = None,
    ) -> AcousticOutput:
        self.check_controls(controls)
        text = torch.from_numpy(np.asarray(ids, dtype=np.int64)).to(self.device)
        text_lengths = torch.from_numpy(np.asarray(lengths, dtype=np.int64)).to(self.device)
        with torch.inference_mode():
            mels, mel_lengths, hit_limit, durations = self.run(text, text_lengths, controls, seed)
        return AcousticOutput(
            mels.float().cpu().numpy(),
            mel_lengths.cpu().numpy().astype(np.int64),
            hit_limit.cpu().numpy().astype(bool),
            None if durations is None else durations.float().cpu().numpy(),
        )

    def run(
        self, text: torch.Tensor, text_lengths: torch.Tensor, controls: Controls, seed: int | None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """The network's inference -> (mels, mel_lengths, hit_max_decoder_steps, predicted
        durations or None) tensors."""
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "device": str(self.device), "precision": self.precision}


def _never(lengths: torch.Tensor) -> torch.Tensor:
    """Parallel models have no decoder step limit to reach."""
    return torch.zeros_like(lengths, dtype=torch.bool)


class TorchTacotron2(TorchAcousticModel):
    name = "tacotron2"
    controls: ClassVar[frozenset[str]] = frozenset({"max_decoder_steps", "gate_threshold"})

    def decoder_step_limit(self, controls: Controls) -> int | None:
        return controls.max_decoder_steps or self.config.max_decoder_steps

    def gate_threshold(self, controls: Controls) -> float | None:
        if controls.gate_threshold is not None:
            return controls.gate_threshold
        return self.config.gate_threshold

    def run(self, text, text_lengths, controls, seed):
        generator = None
        if seed is not None:
            generator = torch.Generator(device=self.device).manual_seed(seed)
        with config_overridden(self.model, gate_threshold=controls.gate_threshold):
            output = self.model.infer(
                text,
                text_lengths,
                max_decoder_steps=controls.max_decoder_steps,
                generator=generator,
            )
        mels, lengths = output.mel_outputs_postnet, output.mel_lengths
        return mels, lengths, output.reached_max_decoder_steps, None


class TorchFastPitch(TorchAcousticModel):
    name = "fastpitch"

    @property
    def controls(self) -> frozenset[str]:  # type: ignore[override]
        speaker = {"speaker"} if self.config.n_speakers > 1 else set()
        return frozenset({"pace", "pitch", *speaker})

    def run(self, text, text_lengths, controls, seed):
        pitch_transform = build_pitch_transform(controls.pitch) if controls.pitch else None
        output = self.model.infer(
            text,
            text_lengths,
            pace=controls.pace,
            pitch_transform=pitch_transform,
            speaker=controls.speaker or 0,
        )
        return output.mels, output.mel_lengths, _never(output.mel_lengths), output.durations_pred


class TorchFastSpeech(TorchAcousticModel):
    name = "fastspeech"
    controls: ClassVar[frozenset[str]] = frozenset({"alpha"})

    def run(self, text, text_lengths, controls, seed):
        output = self.model.infer(text, text_lengths, alpha=controls.alpha)
        return output.mels, output.mel_lengths, _never(output.mel_lengths), output.durations_pred


def waveglow_vocoder(
    loaded: LoadedModel, options: VocoderOptions, runtime: RuntimeOptions
) -> Vocoder:
    return WaveGlowVocoder(
        loaded.model,
        sigma=DEFAULT_SIGMA if options.sigma is None else options.sigma,
        denoiser_strength=(
            DEFAULT_STRENGTH if options.denoiser_strength is None else options.denoiser_strength
        ),
        precision=options.precision,
        seed=options.seed,
        copy_model=False,
        device=str(choose_device(runtime.device)),
    )


def hifigan_vocoder(
    loaded: LoadedModel, options: VocoderOptions, runtime: RuntimeOptions
) -> Vocoder:
    """HiFi-GAN reads the denoiser strength and the precision (it draws no noise: no sigma or
    seed)."""
    return HiFiGanVocoder(
        loaded.model,
        denoiser_strength=(
            HIFIGAN_DENOISER_STRENGTH
            if options.denoiser_strength is None
            else options.denoiser_strength
        ),
        precision=options.precision,
        copy_model=False,
        device=str(choose_device(runtime.device)),
    )
