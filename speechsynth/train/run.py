"""`speechsynth train` as calls: resolve a run's config (recipe, file, overrides, resumed
checkpoint) and train it, with one-line errors for inconsistent requests."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from speechsynth.errors import SpeechSynthError
from speechsynth.fileio import write_text_atomic
from speechsynth.models.checkpoint import read_checkpoint
from speechsynth.models.registry import get_spec
from speechsynth.train.config import ExperimentConfig, build_config
from speechsynth.train.data import select_utterances
from speechsynth.train.distributed import DistributedContext
from speechsynth.train.registry import get_task
from speechsynth.train.task import TrainingTask
from speechsynth.train.trainer import Trainer

log = logging.getLogger(__name__)

# Shortcuts a model's training takes besides `--set`: option -> value -> config assignments.
MODEL_OPTIONS: dict[str, dict[str, dict[str, list[str]]]] = {
    "fastpitch": {
        "aligner": {
            "learned": ["model.learned_aligner=true"],
            "teacher": ["model.learned_aligner=false", "data.p_arpabet=0"],
        }
    }
}


@dataclass(frozen=True)
class TrainRequest:
    model: str
    dataset: Path | None = None
    output: Path | None = None
    config_file: Path | None = None
    assignments: tuple[str, ...] = ()
    resume: str | None = None  # "last" (OUTPUT/checkpoint_last.pt) or a checkpoint path
    device: str | None = None
    amp: bool = False
    model_options: tuple[tuple[str, str], ...] = ()  # (option, value), e.g. ("aligner", "teacher")


@dataclass
class ResolvedRun:
    task: TrainingTask
    config: ExperimentConfig
    checkpoint: dict[str, Any] | None
    resume_path: Path | None


def option_assignments(model: str, option: str, value: str) -> list[str]:
    """The config assignments of a model-specific option (a one-line error for another model)."""
    options = MODEL_OPTIONS.get(model, {})
    if option not in options:
        raise SpeechSynthError(f"--{option} is a {_owners(option)} option; {model} has none")
    return list(options[option][value])


def _owners(option: str) -> str:
    return " / ".join(name for name, options in MODEL_OPTIONS.items() if option in options)


def resolve_run(request: TrainRequest) -> ResolvedRun:
    task = get_task(request.model)
    resume_path = _resume_path(request)
    checkpoint = read_checkpoint(resume_path, request.model) if resume_path else None
    assignments = [
        *(
            a
            for option, value in request.model_options
            for a in option_assignments(request.model, option, value)
        ),
        *request.assignments,
        *(["train.amp=true"] if request.amp else []),
    ]
    base = checkpoint["experiment"] if checkpoint else task.default_overrides
    config_class = get_spec(request.model).config_class
    config = build_config(request.model, config_class, request.config_file, assignments, base)
    if checkpoint is not None:
        _check_same_model(config, checkpoint, resume_path)
    return ResolvedRun(task, config, checkpoint, resume_path)


def config_yaml(config: ExperimentConfig) -> str:
    return yaml.safe_dump(config.to_dict(), sort_keys=False)


def train(request: TrainRequest) -> dict[str, Any] | None:
    """Train the run `request` describes -> its summary (None on the non-main processes of a
    distributed run)."""
    run = resolve_run(request)
    if request.dataset is None or request.output is None:
        raise SpeechSynthError("train needs --dataset DIR and --output DIR")
    context = DistributedContext.from_environment(request.device)
    try:
        train_utterances, val_utterances = select_utterances(
            request.dataset, run.config.data, run.config.train.seed
        )
        if context.is_main:
            write_text_atomic(request.output / "config.yaml", config_yaml(run.config))
            log.info(
                "training %s on %d utterances (%d for validation), %d process(es), device %s",
                request.model,
                len(train_utterances),
                len(val_utterances),
                context.world_size,
                context.device,
            )
        trainer = Trainer(
            run.task,
            run.config,
            train_utterances,
            val_utterances,
            request.output,
            context,
            run.checkpoint,
        )
        state = trainer.fit()
    finally:
        context.close()
    if not context.is_main:
        return None
    return {
        "output": str(request.output),
        "epochs": state.epoch,
        "steps": state.step,
        "last_val_loss": state.last_val_loss,
        "best_val_loss": None if state.best_val_loss == float("inf") else state.best_val_loss,
        "last_checkpoint": str(request.output / "checkpoint_last.pt"),
    }


def _resume_path(request: TrainRequest) -> Path | None:
    if request.resume is None:
        return None
    if request.resume == "last":
        if request.output is None:
            raise SpeechSynthError(
                "--resume without a checkpoint needs --output (the run directory)"
            )
        return request.output / "checkpoint_last.pt"
    return Path(request.resume)


def _check_same_model(config: ExperimentConfig, checkpoint: dict, path: Path) -> None:
    saved = checkpoint["model_config"]
    now = dataclasses.asdict(config.model)
    changed = sorted(key for key in now if saved.get(key) != now[key])
    if changed:
        details = ", ".join(f"{key}: {saved.get(key)!r} -> {now[key]!r}" for key in changed[:3])
        raise SpeechSynthError(
            f"{path}: the model config differs from the checkpoint's ({details}); "
            "a resumed run must keep the model config"
        )
