"""WaveGlow to ONNX as NVIDIA's `convert_waveglow2onnx.py` does, plus NVIDIA's denoiser, so
the export directory is a vocoder (`--vocoder DIR`, `infer.onnx_waveglow`).

`waveglow.onnx`: `mel` [B, 80, T] and `z` [B, 8, 32 T] in, `audio` [B, 256 T] out, with NVIDIA's
`infer_onnx` semantics (sigma, fixed at export, multiplies only the first n_remaining_channels of
`z`; the early chunks enter as given, so the runtime scales them). Weight norm is folded into the
exported weights and each 1x1 convolution's inverse is computed once in float32, as NVIDIA's
export does after `remove_weightnorm`.
`denoiser.onnx`: `audio` [B, 256 T] and `strength` [1] in, `denoised` [B, 256 T] out; the bias
spectrum is computed at export time, as the PyTorch `Denoiser` computes it.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from speechsynth.audio.stft import STFT
from speechsynth.errors import SpeechSynthError
from speechsynth.export.onnx_files import export_graph, model_manifest, staged_directory
from speechsynth.models.denoiser import DEFAULT_STRENGTH, STFT_SETTINGS, Denoiser, waveglow_denoiser
from speechsynth.models.export_manifest import MANIFEST_NAME, write_manifest
from speechsynth.models.registry import LoadedModel
from speechsynth.models.waveglow import DEFAULT_SIGMA, WaveGlow, ungroup

WAVEGLOW_FILE = "waveglow.onnx"
DENOISER_FILE = "denoiser.onnx"
FILES = {"waveglow": WAVEGLOW_FILE, "denoiser": DENOISER_FILE}


class WaveGlowForExport(nn.Module):
    """WaveGlow's inverse pass written with plain ops (no inference caches), for tracing."""

    def __init__(self, waveglow: WaveGlow, sigma: float):
        super().__init__()
        self.waveglow = waveglow
        self.sigma = sigma
        for k, convinv in enumerate(waveglow.convinv):
            self.register_buffer(f"inverse_{k}", convinv.inverse_weight().detach().clone())

    def forward(self, mel: Tensor, z: Tensor) -> Tensor:
        waveglow, config = self.waveglow, self.waveglow.config
        spect = waveglow.grouped_conditioning(mel)
        audio = self.sigma * z[:, : waveglow.n_remaining_channels]
        rest = z[:, waveglow.n_remaining_channels :]
        for k in reversed(range(config.n_flows)):
            n_half = audio.size(1) // 2
            audio_0, audio_1 = audio[:, :n_half], audio[:, n_half:]
            output = waveglow.WN[k](audio_0, spect)
            audio_1 = (audio_1 - output[:, :n_half]) / torch.exp(output[:, n_half:])
            audio = F.conv1d(torch.cat([audio_0, audio_1], 1), getattr(self, f"inverse_{k}"))
            if config.emits_early(k):
                size = config.n_early_size
                audio, rest = torch.cat([rest[:, :size], audio], 1), rest[:, size:]
        return ungroup(audio)


class DenoiserForExport(nn.Module):
    """The denoiser with its strength as a graph input [1]."""

    def __init__(self, denoiser: Denoiser):
        super().__init__()
        self.denoiser = denoiser

    def forward(self, audio: Tensor, strength: Tensor) -> Tensor:
        return self.denoiser(audio, strength)


def export_waveglow(
    loaded: LoadedModel, output_dir: str | Path, sigma: float = DEFAULT_SIGMA, opset: int = 18
) -> dict[str, Any]:
    """Write waveglow.onnx, denoiser.onnx and the manifest to `output_dir` (all or nothing)
    -> a summary: directory, files, opset, sigma."""
    if loaded.name != "waveglow":
        raise SpeechSynthError(f"{loaded.source}: not a WaveGlow checkpoint ({loaded.name})")
    if sigma < 0:
        raise SpeechSynthError(f"sigma must not be negative, got {sigma}")
    # A folded float32 copy, as the PyTorch vocoder runs it (the caller's model stays as is).
    waveglow: WaveGlow = copy.deepcopy(loaded.model).float().eval().remove_weightnorm()
    config = waveglow.config
    hop = waveglow.upsample.stride[0]
    batch = torch.export.Dim("batch", min=1, max=1024)
    frames = torch.export.Dim("mel_len", min=2, max=65536)
    # batch 2 in the examples: a size-1 example would fix the batch axis at 1
    mel = torch.randn(2, config.n_mel_channels, 16)
    z = torch.randn(2, config.n_group, 16 * hop // config.n_group)
    audio = torch.randn(2, 16 * hop)
    with staged_directory(output_dir, MANIFEST_NAME) as staging:
        export_graph(
            WaveGlowForExport(waveglow, sigma),
            (mel, z),
            staging / WAVEGLOW_FILE,
            ("mel", "z"),
            ("audio",),
            {"mel": {0: batch, 2: frames}, "z": {0: batch, 2: frames * (hop // config.n_group)}},
            opset,
        )
        export_graph(
            DenoiserForExport(waveglow_denoiser(waveglow, STFT(*STFT_SETTINGS))),
            (audio, torch.tensor([DEFAULT_STRENGTH])),
            staging / DENOISER_FILE,
            ("audio", "strength"),
            ("denoised",),  # an output may not share an input's name
            {"audio": {0: batch, 1: frames * hop}, "strength": None},
            opset,
        )
        defaults = {"sigma": sigma, "denoiser_strength": DEFAULT_STRENGTH}
        manifest = model_manifest(
            loaded,
            FILES,
            opset,
            inference_defaults=defaults,
            sigma=sigma,  # fixed in the graph
            sigma_scaled_channels=config.noise_channels[0],  # the first channels of z
        )
        write_manifest(staging, manifest)
    return {"directory": str(output_dir), "files": dict(FILES), "opset": opset, "sigma": sigma}
