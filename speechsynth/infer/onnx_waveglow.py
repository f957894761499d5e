"""An exported WaveGlow (`export.waveglow`: waveglow.onnx and denoiser.onnx) as a vocoder, run by
ONNX Runtime without torch.

It chunks long mels, draws the noise and cross-fades exactly as the PyTorch `WaveGlowVocoder`
(`chunked_vocoding`), so the same seed gives the same audio from both. The graph takes NVIDIA's
`infer_onnx` noise `z`: sigma (fixed at export) scales only its first channels, so the early
channels are scaled here, as the PyTorch `WaveGlow.infer` scales every draw.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from speechsynth.audio.config import MelConfig
from speechsynth.errors import SpeechSynthError
from speechsynth.infer.chunked_vocoding import Chunking, utterance_noise, vocode_utterances
from speechsynth.infer.onnx_runtime import OnnxExport
from speechsynth.infer.stage_clock import timed_stage
from speechsynth.infer.vocoder_interface import Vocoder, VocoderOptions
from speechsynth.models.export_manifest import MANIFEST_NAME


class OnnxWaveGlowVocoder(Vocoder):
    name = "waveglow"
    runtime = "onnx"

    def __init__(
        self,
        export: OnnxExport,
        options: VocoderOptions | None = None,
        chunking: Chunking | None = None,
    ) -> None:
        options = options or VocoderOptions()
        super().__init__(_mel_config(export))
        defaults = export.require("inference_defaults")
        self.sigma = float(export.require("sigma"))
        if options.sigma is not None and options.sigma != self.sigma:
            raise SpeechSynthError(
                f"{export.directory}: this WaveGlow export has sigma {self.sigma} fixed in its "
                f"graph, not {options.sigma}; drop --sigma or export again with --sigma "
                f"{options.sigma}"
            )
        strength = options.denoiser_strength
        self.denoiser_strength = float(
            defaults.get("denoiser_strength", 0.0) if strength is None else strength
        )
        if self.denoiser_strength < 0:
            raise SpeechSynthError("the denoiser strength must not be negative")
        self.seed = options.seed
        self.chunking = chunking or Chunking()
        self.n_group = int(export.require("model_config")["n_group"])
        self.scaled_channels = int(export.require("sigma_scaled_channels"))
        self.export = export
        self.session = export.session("waveglow")
        self._denoiser: Any = None

    @property
    def denoiser(self) -> Any:
        """The denoiser's session, made on first use."""
        if self._denoiser is None:
            self._denoiser = self.export.session("denoiser")
        return self._denoiser

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "providers": list(self.session.get_providers())}

    def vocode(self, mels: np.ndarray) -> np.ndarray:
        noise = None
        if self.sigma > 0:
            groups = mels.shape[2] * self.hop_length // self.n_group
            noise = utterance_noise(mels.shape[0], self.n_group, groups, self.seed)
            noise[:, self.scaled_channels :] *= np.float32(self.sigma)
        denoise = self._denoise if self.denoiser_strength > 0 else None
        return vocode_utterances(
            mels, noise, self._vocode_span, denoise, self.chunking, self.hop_length
        )

    def _vocode_span(self, mels: np.ndarray, noise: np.ndarray | None) -> np.ndarray:
        if noise is None:  # sigma 0
            groups = mels.shape[2] * self.hop_length // self.n_group
            noise = np.zeros((mels.shape[0], self.n_group, groups), np.float32)
        feeds = {"mel": np.ascontiguousarray(mels), "z": np.ascontiguousarray(noise)}
        (audio,) = self.session.run(None, feeds)
        return audio

    def _denoise(self, audio: np.ndarray) -> np.ndarray:
        strength = np.array([self.denoiser_strength], np.float32)
        with timed_stage("denoiser"):
            (denoised,) = self.denoiser.run(None, {"audio": audio, "strength": strength})
        return denoised


def _mel_config(export: OnnxExport) -> MelConfig:
    try:
        return MelConfig(**export.require("audio"))
    except TypeError:
        raise SpeechSynthError(
            f"{export.directory / MANIFEST_NAME}: its 'audio' settings are not a mel setup; "
            "export the model again"
        ) from None
