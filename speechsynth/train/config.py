"""Typed training configuration: dataclass defaults < YAML files (with `parent:`) < `--set`.

A YAML config has up to three sections, each overriding the matching dataclass:

    parent: base.yaml          # optional; resolved relative to this file; may chain
    model: {encoder_embedding_dim: 256}
    train: {batch_size: 16, learning_rate: 5.0e-4}
    data: {cleaners: [english_cleaners]}

`--set train.batch_size=8` (or `--set batch_size=8` when the key is unambiguous) overrides
single values. Unknown sections or keys are errors that list the valid names.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from speechsynth.errors import SpeechSynthError
from speechsynth.text import DEFAULT_TEXT_RULES, TextProcessor

SECTIONS = ("model", "train", "data")


@dataclass
class TrainConfig:
    """The optimisation loop. Defaults: NVIDIA's Tacotron 2 recipe; other models override them."""

    epochs: int = 1501
    batch_size: int = 48
    learning_rate: float = 1e-3
    weight_decay: float = 1e-6
    grad_clip_thresh: float = 1.0
    anneal_steps: tuple[int, ...] = (500, 1000, 1500)  # epochs, as NVIDIA's --anneal-steps
    anneal_factor: float = 0.1
    grad_accumulation: int = 1
    optimizer: str = "adam"  # "adam" or "lamb" (NVIDIA FastPitch's FusedLAMB update)
    betas: tuple[float, ...] = (0.9, 0.999)
    eps: float = 1e-8
    warmup_steps: int = 0  # FastPitch / FastSpeech: linear warm-up, then 1/sqrt(step) decay
    ema_decay: float = 0.0  # > 0 keeps an exponential moving average of the weights
    # Weights of the loss terms, by name (FastPitch, FastSpeech; Tacotron 2: guided_attention)
    loss_scales: dict[str, float] = field(default_factory=dict)
    guided_attention_sigma: float = 0.4  # Tacotron 2 with loss_scales.guided_attention > 0
    binarization_start_epoch: int = 250  # FastPitch 1.1 aligner: KL binarisation loss ramp
    binarization_warmup_epochs: int = 100
    amp: bool = False
    seed: int = 1234
    epochs_per_checkpoint: int = 50
    keep_last_checkpoints: int = 3
    num_workers: int = 2
    log_every: int = 1  # iterations between JSON/TensorBoard log lines
    max_steps_per_epoch: int = 0  # 0 = whole epoch; > 0 caps it (smoke tests, benchmarks)


@dataclass
class DataConfig:
    """Where the data comes from and how text becomes symbols."""

    train_filelist: str = ""  # default: DATASET/filelists/train.txt, else the whole dataset
    val_filelist: str = ""  # default: DATASET/filelists/val.txt, else val_size held-out clips
    val_size: float = 100  # held-out clips (count, or fraction < 1) when there is no val filelist
    mel_dir: str = ""  # precomputed mels (`prepare mels --output DIR`); empty = compute on the fly
    cleaners: tuple[str, ...] = ("english_cleaners",)  # NVIDIA's, to match their checkpoints
    p_arpabet: float = 0.0
    text_rules: str = DEFAULT_TEXT_RULES  # or "nvidia_fastpitch11" (speechsynth.text.TEXT_RULES)
    segment_length: int = 8000  # vocoders: audio samples per training example (NVIDIA's recipe)
    pitch_dir: str = ""  # FastPitch: `prepare pitch` output (<id>.pt per clip, pitch_stats.json)
    durations_dir: str = ""  # FastPitch with teacher durations: `prepare durations` output
    pitch_mean: float = 0.0  # Hz; 0 = read pitch_stats.json in pitch_dir
    pitch_std: float = 0.0

    def text_processor(self, seed: int | None) -> TextProcessor:
        """How training reads the transcripts (each dropped character reported once)."""
        return TextProcessor(
            self.cleaners, self.p_arpabet, seed=seed, warn_once=True, rules=self.text_rules
        )


@dataclass
class ExperimentConfig:
    model_name: str
    model: Any  # the model's own config dataclass
    train: TrainConfig = field(default_factory=TrainConfig)
    data: DataConfig = field(default_factory=DataConfig)

    def to_dict(self) -> dict:
        """Plain dicts and lists (no tuples), safe for YAML and `torch.load(weights_only=True)`."""
        return {
            "model_name": self.model_name,
            **{section: _plain(dataclasses.asdict(getattr(self, section))) for section in SECTIONS},
        }


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def read_yaml_chain(path: Path, seen: tuple[Path, ...] = ()) -> dict:
    """Load a YAML config, merged over its `parent:` chain (parents first)."""
    path = path.resolve()
    if path in seen:
        chain = " -> ".join(str(p) for p in (*seen, path))
        raise SpeechSynthError(f"{path}: config parents form a cycle: {chain}")
    if not path.is_file():
        raise SpeechSynthError(f"{path}: config file not found")
    try:
        content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise SpeechSynthError(
            f"{path}: not a valid YAML file ({error})".replace("\n", " ")
        ) from None
    if not isinstance(content, dict):
        raise SpeechSynthError(f"{path}: a config file must be a mapping of sections")
    parent = content.pop("parent", None)
    merged = read_yaml_chain(path.parent / parent, (*seen, path)) if parent else {}
    for section, values in content.items():
        if section not in SECTIONS:
            raise SpeechSynthError(
                f"{path}: unknown config section {section!r}; valid: parent, {', '.join(SECTIONS)}"
            )
        if not isinstance(values, dict):
            raise SpeechSynthError(f"{path}: section {section!r} must be a mapping of key: value")
        merged.setdefault(section, {}).update(values)
    return merged


def _field_types(config_class: type) -> dict[str, Any]:
    return typing.get_type_hints(config_class)


def coerce(value: Any, annotation: Any, key: str) -> Any:
    """Convert a YAML or command-line value to the field's declared type."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        options = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        if value is None or (isinstance(value, str) and value.lower() in ("none", "null")):
            return None
        return coerce(value, options[0], key)
    if origin is dict:
        if not isinstance(value, dict):
            raise SpeechSynthError(f"config key {key!r}: expected a mapping, got {value!r}")
        _, value_type = typing.get_args(annotation) or (str, Any)
        return {name: coerce(item, value_type, f"{key}.{name}") for name, item in value.items()}
    if origin in (tuple, list):
        (item_type, *_) = typing.get_args(annotation) or (str,)
        if isinstance(value, str):
            # "5,9", "5 9" and YAML's "[5, 9]" all mean the same list
            value = value.strip().removeprefix("[").removesuffix("]").replace(",", " ").split()
        if not isinstance(value, list | tuple):
            value = [value]
        items = [coerce(item, item_type, key) for item in value]
        return tuple(items) if origin is tuple else items
    try:
        if annotation is bool:
            return _to_bool(value)
        if annotation is int:
            return _to_int(value)
        if annotation is float:
            return float(value)
        if annotation is str:
            return str(value)
    except (TypeError, ValueError):
        name = getattr(annotation, "__name__", str(annotation))
        raise SpeechSynthError(f"config key {key!r}: {value!r} is not a valid {name}") from None
    return value


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    lowered = str(value).strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError(value)


def _to_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(value)
    number = float(value)
    if number != int(number):
        raise ValueError(value)
    return int(number)


def _nest_dotted(config: Any, values: dict[str, Any]) -> dict[str, Any]:
    """`{"WN_config.n_channels": 256}` -> `{"WN_config": {...current..., "n_channels": 256}}`."""
    nested: dict[str, Any] = {}
    for key, value in values.items():
        name, dot, sub_key = key.partition(".")
        if not dot:
            nested[name] = value
            continue
        current = nested.get(name, getattr(config, name, None))
        if not isinstance(current, dict):
            raise SpeechSynthError(f"config key {key!r}: {name!r} is not a mapping")
        nested[name] = {**current, sub_key: value}
    return nested


def override(config: Any, values: dict[str, Any], section: str) -> Any:
    """A copy of dataclass `config` with `values` applied (type-checked, unknown keys refused).

    Keys of mapping fields can be set one at a time with a dot: `WN_config.n_channels`.
    """
    values = _nest_dotted(config, values)
    types_by_name = _field_types(type(config))
    unknown = sorted(set(values) - set(types_by_name))
    if unknown:
        raise SpeechSynthError(
            f"unknown {section} config key(s) {', '.join(unknown)}; "
            f"valid keys: {', '.join(types_by_name)}"
        )
    coerced = {
        key: coerce(value, types_by_name[key], f"{section}.{key}") for key, value in values.items()
    }
    return dataclasses.replace(config, **coerced)


def parse_assignments(assignments: list[str], config: ExperimentConfig) -> dict[str, dict]:
    """`["train.batch_size=8", "n_mel_channels=80"]` -> {"train": {...}, "model": {...}}."""
    sections: dict[str, dict] = {}
    for assignment in assignments:
        key, separator, value = assignment.partition("=")
        if not separator or not key.strip():
            raise SpeechSynthError(
                f"--set {assignment!r}: expected KEY=VALUE, e.g. train.epochs=10"
            )
        section, name = _locate_key(key.strip(), config)
        sections.setdefault(section, {})[name] = value.strip()
    return sections


def _locate_key(key: str, config: ExperimentConfig) -> tuple[str, str]:
    if "." in key:
        section, name = key.split(".", 1)
        if section not in SECTIONS:
            raise SpeechSynthError(f"--set {key}: unknown section {section!r}; valid: {SECTIONS}")
        return section, name
    owners = [s for s in SECTIONS if key in _field_types(type(getattr(config, s)))]
    if len(owners) == 1:
        return owners[0], key
    if not owners:
        raise SpeechSynthError(
            f"--set {key}: no config key of that name; see `speechsynth train "
            f"{config.model_name} --print-config` for the valid keys"
        )
    raise SpeechSynthError(
        f"--set {key}: ambiguous, write one of " + ", ".join(f"{s}.{key}" for s in owners)
    )


def build_config(
    model_name: str,
    model_config_class: type,
    config_file: Path | None = None,
    assignments: list[str] | None = None,
    base: dict | None = None,
) -> ExperimentConfig:
    """Defaults, then `base` (e.g. a checkpoint's saved config), the YAML chain, and `--set`."""
    config = ExperimentConfig(model_name, model_config_class())
    layers = [base or {}]
    if config_file is not None:
        layers.append(read_yaml_chain(config_file))
    for layer in layers:
        config = _apply_sections(config, layer)
    return _apply_sections(config, parse_assignments(assignments or [], config))


def _apply_sections(config: ExperimentConfig, sections: dict[str, dict]) -> ExperimentConfig:
    for section in SECTIONS:
        if sections.get(section):
            updated = override(getattr(config, section), sections[section], section)
            config = dataclasses.replace(config, **{section: updated})
    return config
