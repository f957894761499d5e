"""WaveGlow to ONNX as NVIDIA's `convert_waveglow2onnx.py` does: one graph, `mel` [B, 80, T] and
`z` [B, 8, 32 T] in, `audio` [B, 256 T] out, with NVIDIA's `infer_onnx` semantics (sigma, fixed
at export, multiplies only the first n_remaining_channels of `z`; the early chunks enter as
given). Weight norm is folded into the exported weights and each 1x1 convolution's inverse is
computed once in float32, as NVIDIA's export does after `remove_weightnorm`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from speechsynth import __version__
from speechsynth.errors import SpeechSynthError
from speechsynth.export.onnx_files import export_graph, staged_directory
from speechsynth.models.registry import LoadedModel
from speechsynth.models.waveglow import WaveGlow, ungroup

WAVEGLOW_FILE = "waveglow.onnx"
WAVEGLOW_MANIFEST = "speechsynth_waveglow_onnx.json"
DEFAULT_SIGMA = 0.6  # NVIDIA's test_infer / TensorRT default (their export script bakes 0.9)


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


def export_waveglow(
    loaded: LoadedModel, output_dir: str | Path, sigma: float = DEFAULT_SIGMA, opset: int = 18
) -> dict[str, Any]:
    """Write waveglow.onnx and its manifest to `output_dir` (all or nothing) -> a summary:
    directory, files, opset, sigma."""
    if loaded.name != "waveglow":
        raise SpeechSynthError(f"{loaded.source}: not a WaveGlow checkpoint ({loaded.name})")
    if sigma < 0:
        raise SpeechSynthError(f"sigma must not be negative, got {sigma}")
    waveglow: WaveGlow = loaded.model.float().eval()
    config = waveglow.config
    batch = torch.export.Dim("batch", min=1, max=1024)
    frames = torch.export.Dim("mel_len", min=2, max=65536)
    # batch 2 in the example: a size-1 example would fix the batch axis at 1
    mel = torch.randn(2, config.n_mel_channels, 16)
    hop = waveglow.upsample.stride[0]
    z = torch.randn(2, config.n_group, 16 * hop // config.n_group)
    manifest = {
        "format": 1,
        "model_name": "waveglow",
        "model_config": config.to_dict(),
        "sigma": sigma,
        "opset": opset,
        "files": {"waveglow": WAVEGLOW_FILE},
        "source": str(loaded.source),
        "speechsynth_version": __version__,
    }
    with staged_directory(output_dir, WAVEGLOW_MANIFEST) as staging:
        export_graph(
            WaveGlowForExport(waveglow, sigma),
            (mel, z),
            staging / WAVEGLOW_FILE,
            ("mel", "z"),
            ("audio",),
            {"mel": {0: batch, 2: frames}, "z": {0: batch, 2: frames * (hop // config.n_group)}},
            opset,
        )
        (staging / WAVEGLOW_MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return {
        "directory": str(output_dir),
        "files": {"waveglow": WAVEGLOW_FILE},
        "opset": opset,
        "sigma": sigma,
    }
