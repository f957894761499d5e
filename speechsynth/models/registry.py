"""The model registry: names, config classes and networks, and how to recognise each one."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import Tensor, nn

from speechsynth.errors import SpeechSynthError
from speechsynth.models.checkpoint import (
    is_own_checkpoint,
    load_file,
    load_state_dict_strict,
    read_checkpoint,
    unwrap_nvidia_checkpoint,
)
from speechsynth.models.fastpitch import FastPitch, FastPitchConfig
from speechsynth.models.fastspeech import FastSpeech, FastSpeechConfig
from speechsynth.models.tacotron2 import Tacotron2, Tacotron2Config
from speechsynth.models.waveglow import WaveGlow, WaveGlowConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelSpec:
    name: str
    config_class: type
    model_class: type[nn.Module]
    signature_key: str  # a state_dict key only this model has: recognises NVIDIA checkpoints
    # (NVIDIA checkpoint's config or None, its state_dict) -> our config; default: make_config.
    # FastPitch tells 1.0 from 1.1; FastSpeech checkpoints hold no config (sizes from shapes).
    nvidia_config: Callable[[Mapping[str, Any] | None, Mapping[str, Tensor]], Any] | None = None

    def make_config(self, values: Mapping[str, Any] | None = None) -> Any:
        return self.config_class.from_dict(values or {})

    def config_from_nvidia(
        self, values: Mapping[str, Any] | None, state_dict: Mapping[str, Tensor]
    ) -> Any:
        if self.nvidia_config is None:
            return self.make_config(values)
        return self.nvidia_config(values, state_dict)

    def build(self, config: Any) -> nn.Module:
        if isinstance(config, Mapping):
            config = self.make_config(config)
        return self.model_class(config)


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec("tacotron2", Tacotron2Config, Tacotron2, "decoder.attention_rnn.weight_ih"),
        ModelSpec("waveglow", WaveGlowConfig, WaveGlow, "convinv.0.conv.weight"),
        ModelSpec(
            "fastpitch", FastPitchConfig, FastPitch, "pitch_emb.weight", FastPitchConfig.from_nvidia
        ),
        ModelSpec(
            "fastspeech",
            FastSpeechConfig,
            FastSpeech,
            "phoneme_side.position.weight",
            FastSpeechConfig.from_nvidia,
        ),
    )
}


def get_spec(name: str) -> ModelSpec:
    if name not in MODELS:
        raise SpeechSynthError(f"unknown model {name!r}; available: {', '.join(MODELS)}")
    return MODELS[name]


def detect_spec(state_dict: Mapping[str, Tensor]) -> ModelSpec | None:
    """The registered model whose signature parameter `state_dict` holds, if any."""
    for spec in MODELS.values():
        if spec.signature_key in state_dict:
            return spec
    return None


@dataclass
class LoadedModel:
    """A network ready for inference, with what the checkpoint says about it."""

    name: str
    config: Any
    model: nn.Module
    source: Path
    origin: str  # "speechsynth" or "nvidia"
    text_cleaners: tuple[str, ...]
    p_arpabet: float = 0.0


NVIDIA_CLEANERS = ("english_cleaners",)


def load_model(path: str | Path, expected_name: str | None = None) -> LoadedModel:
    """Load one of our checkpoints or an NVIDIA one (recognised by its parameter names)."""
    path = Path(path)
    content = load_file(path)
    if is_own_checkpoint(content):
        content = read_checkpoint(path, expected_name)
        spec = get_spec(content["model_name"])
        config = spec.make_config(content["model_config"])
        # inference uses the weights' moving average when training kept one (as NVIDIA's)
        state_dict = content.get("ema_state_dict") or content["state_dict"]
        data = content.get("experiment", {}).get("data", {})
        cleaners = tuple(data.get("cleaners", NVIDIA_CLEANERS))
        p_arpabet = float(data.get("p_arpabet", 0.0))
        origin = "speechsynth"
    else:
        state_dict, nvidia_config = unwrap_nvidia_checkpoint(content, str(path))
        spec = _nvidia_spec(state_dict, expected_name, path)
        config = spec.config_from_nvidia(nvidia_config, state_dict)
        cleaners, p_arpabet = nvidia_text_setup(content, path)
        origin = "nvidia"
    model = spec.build(config)
    load_state_dict_strict(model, state_dict, str(path))
    model.eval()
    return LoadedModel(spec.name, config, model, path, origin, cleaners, p_arpabet)


# FastPitch 1.1's cleaner for its NGC checkpoints; ours is NVIDIA's english_cleaners, which
# differs from it only in rare cases (it keeps some punctuation v2 maps away).
CLEANER_SUBSTITUTES = {"english_cleaners_v2": "english_cleaners"}


def nvidia_text_setup(content: Any, path: Path) -> tuple[tuple[str, ...], float]:
    """(cleaners, p_arpabet) an NVIDIA checkpoint was trained with: FastPitch 1.1 files record
    them in `train_setup` (its arguments); older files do not, and used english_cleaners."""
    setup = content.get("train_setup") if isinstance(content, Mapping) else None
    if not isinstance(setup, Mapping):
        return NVIDIA_CLEANERS, 0.0
    names = setup.get("text_cleaners") or list(NVIDIA_CLEANERS)
    names = [names] if isinstance(names, str) else list(names)
    for name in names:
        if name in CLEANER_SUBSTITUTES:
            log.warning(
                "%s: trained with %s, read here with %s", path, name, CLEANER_SUBSTITUTES[name]
            )
    cleaners = tuple(CLEANER_SUBSTITUTES.get(name, name) for name in names)
    return cleaners, float(setup.get("p_arpabet") or 0.0)


def _nvidia_spec(
    state_dict: Mapping[str, Tensor], expected_name: str | None, path: Path
) -> ModelSpec:
    detected = detect_spec(state_dict)
    if expected_name is not None:
        expected = get_spec(expected_name)
        if detected is not None and detected is not expected:
            raise SpeechSynthError(
                f"{path}: is a {detected.name} checkpoint, expected {expected_name}"
            )
        return expected
    if detected is None:
        raise SpeechSynthError(
            f"{path}: cannot tell which model these weights belong to; "
            f"models known: {', '.join(MODELS)}"
        )
    return detected
