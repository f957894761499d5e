"""The model registry: names, config classes and networks, and how to recognise each one."""

from __future__ import annotations

import re
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
from speechsynth.models.fastpitch import FastPitch, FastPitchConfig, is_nvidia_10_style
from speechsynth.models.fastspeech import FastSpeech, FastSpeechConfig
from speechsynth.models.hifigan import HiFiGanConfig, HiFiGanGenerator
from speechsynth.models.tacotron2 import Tacotron2, Tacotron2Config
from speechsynth.models.text_setup import (
    NVIDIA_CLEANERS,
    NVIDIA_FASTPITCH11_CLEANERS,
    NVIDIA_FASTPITCH11_RULES,
    NVIDIA_FASTPITCH11_SYMBOL_SET,
    SPEECHSYNTH_TEXT_RULES,
    TextSetup,
)
from speechsynth.models.waveglow import WaveGlow, WaveGlowConfig


def _fastpitch_nvidia_text(config: FastPitchConfig) -> TextSetup:
    """FastPitch 1.0 read english_cleaners as Tacotron 2; 1.1's inference.py defaults otherwise."""
    if is_nvidia_10_style(config):
        return TextSetup(NVIDIA_CLEANERS, 0.0, SPEECHSYNTH_TEXT_RULES)
    return TextSetup(NVIDIA_FASTPITCH11_CLEANERS, 0.0, NVIDIA_FASTPITCH11_RULES)


_FLAT_RESBLOCK_KEY = re.compile(r"resblocks\.(\d+)\.(convs\w*\..+)")


def _hifigan_nested_resblocks(state_dict: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """jik876's original HiFi-GAN numbers the residual blocks flat, `resblocks.{n}` with
    n = stage * kernels + kernel; NVIDIA's (and ours) nests them, `resblocks.{stage}.{kernel}`.
    Other keys, and state_dicts already nested, are returned unchanged."""
    flat = {key: _FLAT_RESBLOCK_KEY.fullmatch(key) for key in state_dict}
    blocks = {int(match.group(1)) for match in flat.values() if match}
    stages = {key.split(".")[1] for key in state_dict if key.startswith("ups.")}
    if not blocks or not stages:
        return dict(state_dict)
    per_stage = (max(blocks) + 1) // len(stages)
    renamed = {}
    for key, value in state_dict.items():
        match = flat[key]
        if match:
            stage, kernel = divmod(int(match.group(1)), per_stage)
            key = f"resblocks.{stage}.{kernel}.{match.group(2)}"
        renamed[key] = value
    return renamed


@dataclass(frozen=True)
class ModelSpec:
    name: str
    config_class: type
    model_class: type[nn.Module]
    signature_key: str  # a state_dict key only this model has: recognises NVIDIA checkpoints
    # (NVIDIA checkpoint's config or None, its state_dict) -> our config; default: make_config.
    # FastPitch tells 1.0 from 1.1; FastSpeech checkpoints hold no config (sizes from shapes).
    nvidia_config: Callable[[Mapping[str, Any] | None, Mapping[str, Tensor]], Any] | None = None
    # our config of an NVIDIA checkpoint -> how NVIDIA's code reads text for it, when the
    # checkpoint does not say; default: english_cleaners, read as Tacotron 2 does.
    nvidia_text: Callable[[Any], TextSetup] | None = None
    # (fresh model, state_dict to load) -> None: adapts the model's parametrisation to the file's
    # (WaveGlow saved after remove_weightnorm holds folded weights).
    adapt_to_state_dict: Callable[[Any, Mapping[str, Tensor]], None] | None = None
    role: str = "acoustic"  # "acoustic" (text -> mel) or "vocoder" (mel -> audio)
    # An NVIDIA state_dict -> the same with an older layout's keys renamed to the model's
    # (HiFi-GAN: jik876's flat residual blocks); default: as it is.
    nvidia_state_dict: Callable[[Mapping[str, Tensor]], dict[str, Tensor]] | None = None

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
        ModelSpec(
            "waveglow",
            WaveGlowConfig,
            WaveGlow,
            "convinv.0.conv.weight",
            adapt_to_state_dict=WaveGlow.fold_weight_norms_stored_folded,
            role="vocoder",
        ),
        ModelSpec(
            "fastpitch",
            FastPitchConfig,
            FastPitch,
            "pitch_emb.weight",
            FastPitchConfig.from_nvidia,
            _fastpitch_nvidia_text,
        ),
        ModelSpec(
            "fastspeech",
            FastSpeechConfig,
            FastSpeech,
            "phoneme_side.position.weight",
            FastSpeechConfig.from_nvidia,
        ),
        ModelSpec(
            "hifigan",
            HiFiGanConfig,
            HiFiGanGenerator,
            "conv_post.bias",
            HiFiGanConfig.from_nvidia,
            adapt_to_state_dict=HiFiGanGenerator.fold_weight_norms_stored_folded,
            role="vocoder",
            nvidia_state_dict=_hifigan_nested_resblocks,
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
    text_rules: str = SPEECHSYNTH_TEXT_RULES
    # A packed voice's `voice` settings (its vocoder) and `card`; None for other checkpoints.
    voice: dict[str, Any] | None = None

    @property
    def text_setup(self) -> TextSetup:
        return TextSetup(self.text_cleaners, self.p_arpabet, self.text_rules)


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
        rules = str(data.get("text_rules", SPEECHSYNTH_TEXT_RULES))
        origin = "speechsynth"
        voice = _voice_entry(content)
    else:
        state_dict, nvidia_config = unwrap_nvidia_checkpoint(content, str(path))
        spec = _nvidia_spec(state_dict, expected_name, path)
        if spec.nvidia_state_dict is not None:
            state_dict = spec.nvidia_state_dict(state_dict)
        config = spec.config_from_nvidia(nvidia_config, state_dict)
        cleaners, p_arpabet, rules = nvidia_text_setup(content, spec, config, path)
        origin = "nvidia"
        voice = None
    model = spec.build(config)
    if spec.adapt_to_state_dict is not None:
        spec.adapt_to_state_dict(model, state_dict)
    load_state_dict_strict(model, state_dict, str(path))
    model.eval()
    return LoadedModel(spec.name, config, model, path, origin, cleaners, p_arpabet, rules, voice)


def _voice_entry(content: Mapping[str, Any]) -> dict[str, Any] | None:
    """A packed voice's settings, with its model card (`voice pack`)."""
    if not isinstance(content.get("voice"), Mapping):
        return None
    return {**content["voice"], "card": dict(content.get("card") or {})}


def _nvidia_text_defaults(spec: ModelSpec, config: Any) -> TextSetup:
    if spec.nvidia_text is None:
        return TextSetup(NVIDIA_CLEANERS, 0.0, SPEECHSYNTH_TEXT_RULES)
    return spec.nvidia_text(config)


def nvidia_text_setup(content: Any, spec: ModelSpec, config: Any, path: Path) -> TextSetup:
    """How an NVIDIA checkpoint was trained to read: FastPitch 1.1 files record it in
    `train_setup` (the training arguments: text_cleaners, p_arpabet, symbol_set) and read text
    NVIDIA FastPitch 1.1's way; Tacotron 2, FastPitch 1.0 and FastSpeech use english_cleaners."""
    defaults = _nvidia_text_defaults(spec, config)
    setup = content.get("train_setup") if isinstance(content, Mapping) else None
    if not isinstance(setup, Mapping):
        return defaults
    symbol_set = setup.get("symbol_set") or NVIDIA_FASTPITCH11_SYMBOL_SET
    if symbol_set != NVIDIA_FASTPITCH11_SYMBOL_SET:
        raise SpeechSynthError(
            f"{path}: trained on NVIDIA's symbol set {symbol_set!r}; speechsynth reads "
            f"{NVIDIA_FASTPITCH11_SYMBOL_SET!r} (148 symbols) only"
        )
    names = setup.get("text_cleaners") or list(NVIDIA_FASTPITCH11_CLEANERS)
    names = (names,) if isinstance(names, str) else tuple(names)
    return TextSetup(names, float(setup.get("p_arpabet") or 0.0), NVIDIA_FASTPITCH11_RULES)


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
