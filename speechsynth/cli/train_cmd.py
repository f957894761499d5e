"""`speechsynth train MODEL`: the shared trainer, for every model."""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
from pathlib import Path

from speechsynth.cli.help import add_command
from speechsynth.errors import SpeechSynthError

log = logging.getLogger(__name__)

DESCRIPTION = """\
Train MODEL on a dataset with the shared trainer, with each model's NVIDIA recipe as defaults
(Tacotron 2 / WaveGlow: Adam with learning-rate annealing; FastPitch: LAMB at 0.1 with 1,000
warm-up steps; FastSpeech: Adam with Noam warm-up), gradient clipping and accumulation, mixed
precision (--amp: bf16 autocast on CPU, fp16 with a gradient scaler on CUDA), validation every
epoch, resumable self-describing checkpoints, JSON-lines and TensorBoard logs.

Configuration: the model's typed defaults (NVIDIA's published hyper-parameters), then --config
FILE.yaml (which may name a `parent:` file it overrides), then --set KEY=VALUE. Sections: model,
train, data (see --print-config for every key and its value).

Data: DATASET is an LJSpeech directory or a filelist. A directory's filelists/train.txt and
filelists/val.txt (from `speechsynth prepare split`) are used when present; otherwise data.val_size
clips are held out. data.mel_dir reads mels from `speechsynth prepare mels` instead of computing
them on the fly.

FastPitch needs per-frame pitch from `speechsynth prepare pitch` (data.pitch_dir; its
pitch_stats.json gives the normalisation). Its durations come from the learned aligner (FastPitch
1.1, default) or, with --aligner teacher, from `prepare durations` (data.durations_dir, FastPitch
1.0). train.ema_decay keeps a moving average of the weights, which inference then uses.

Tacotron 2 on small or new data: --set train.loss_scales.guided_attention=10 adds the diagonal
guided-attention loss (DC-TTS; ESPnet's and Coqui's guided attention), which makes attention align
in hundreds of steps; resume with guided_attention=0 to finish with NVIDIA's loss alone. Off by
default, as in NVIDIA's recipe.

Multi-process data parallel: run the same command under torchrun; each process takes
train.batch_size utterances per step, only rank 0 logs and saves (gloo on CPU, NCCL on CUDA).

Outputs in --output: checkpoint_last.pt (every epoch), checkpoint_best.pt (lowest validation
loss), checkpoint_epoch_NNNN.pt (every train.epochs_per_checkpoint epochs, the last
train.keep_last_checkpoints kept), config.yaml, train_log.jsonl, tensorboard/."""

EPILOG = """\
examples:
  speechsynth train tacotron2 --dataset LJSpeech-1.1 --output runs/t2
  speechsynth train tacotron2 --dataset LJSpeech-1.1 --output runs/t2 --amp \\
      --set train.batch_size=32 --set data.mel_dir=LJSpeech-1.1/mels
  speechsynth train tacotron2 --dataset LJSpeech-1.1 --output runs/t2 --resume
  speechsynth train tacotron2 --dataset my-voice --output runs/mine \
      --set train.loss_scales.guided_attention=10
  torchrun --nproc_per_node=2 -m speechsynth train tacotron2 --dataset LJSpeech-1.1 --output runs/t2
  speechsynth train fastpitch --dataset LJSpeech-1.1 --output runs/fp \
      --set data.mel_dir=LJSpeech-1.1/mels --set data.pitch_dir=LJSpeech-1.1/pitch
  speechsynth train fastpitch --aligner teacher --dataset LJSpeech-1.1 --output runs/fp10 \
      --set data.durations_dir=LJSpeech-1.1/durations --set data.pitch_dir=LJSpeech-1.1/pitch
  speechsynth train tacotron2 --config my.yaml --print-config"""


def register(commands: argparse._SubParsersAction) -> None:
    parser = add_command(commands, "train", "train a model", DESCRIPTION, EPILOG)
    parser.add_argument(
        "model", metavar="MODEL", help="model to train: tacotron2, waveglow, fastpitch, fastspeech"
    )
    parser.add_argument(
        "--aligner",
        choices=("learned", "teacher"),
        help="FastPitch durations: learned (1.1's aligner, default) or teacher (1.0: "
        "data.durations_dir from `prepare durations`); teacher also sets data.p_arpabet=0",
    )
    parser.add_argument(
        "--dataset", type=Path, metavar="DIR", help="LJSpeech directory or filelist"
    )
    parser.add_argument(
        "--output", type=Path, metavar="DIR", help="run directory (checkpoints, logs)"
    )
    parser.add_argument("--config", type=Path, metavar="FILE.yaml", help="YAML config file")
    parser.add_argument(
        "--set",
        dest="assignments",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one config value, e.g. train.batch_size=16 (repeatable)",
    )
    parser.add_argument(
        "--resume",
        nargs="?",
        const="last",
        metavar="CKPT",
        help="continue a run: from OUTPUT/checkpoint_last.pt, or from CKPT",
    )
    parser.add_argument(
        "--amp", action="store_true", help="mixed precision (same as train.amp=true)"
    )
    parser.add_argument("--device", choices=("cpu", "cuda"), help="default: cuda when available")
    parser.add_argument(
        "--print-config", action="store_true", help="print the resolved config and exit"
    )
    parser.add_argument("--json", action="store_true", help="print a JSON summary when done")
    parser.set_defaults(run=run_train)


def _resume_path(args: argparse.Namespace) -> Path | None:
    if args.resume is None:
        return None
    if args.resume == "last":
        if args.output is None:
            raise SpeechSynthError(
                "--resume without a checkpoint needs --output (the run directory)"
            )
        return args.output / "checkpoint_last.pt"
    return Path(args.resume)


def _aligner_assignments(args: argparse.Namespace) -> list[str]:
    if args.aligner is None:
        return []
    if args.model != "fastpitch":
        raise SpeechSynthError(f"--aligner is a FastPitch option; {args.model} has none")
    if args.aligner == "learned":
        return ["model.learned_aligner=true"]
    return ["model.learned_aligner=false", "data.p_arpabet=0"]


def _check_same_model(config, checkpoint: dict, path: Path) -> None:
    saved = checkpoint["model_config"]
    now = dataclasses.asdict(config.model)
    changed = sorted(key for key in now if saved.get(key) != now[key])
    if changed:
        details = ", ".join(f"{key}: {saved.get(key)!r} -> {now[key]!r}" for key in changed[:3])
        raise SpeechSynthError(
            f"{path}: the model config differs from the checkpoint's ({details}); "
            "a resumed run must keep the model config"
        )


def run_train(args: argparse.Namespace) -> int:
    # Heavy imports here, so `speechsynth --help` stays fast.
    import yaml

    from speechsynth.models.checkpoint import read_checkpoint
    from speechsynth.models.registry import get_spec
    from speechsynth.train.config import build_config
    from speechsynth.train.data import select_utterances
    from speechsynth.train.distributed import DistributedContext
    from speechsynth.train.registry import get_task
    from speechsynth.train.trainer import Trainer

    task = get_task(args.model)
    spec = get_spec(args.model)
    resume_path = _resume_path(args)
    checkpoint = read_checkpoint(resume_path, args.model) if resume_path else None
    assignments = [
        *_aligner_assignments(args),
        *args.assignments,
        *(["train.amp=true"] if args.amp else []),
    ]
    base = checkpoint["experiment"] if checkpoint else task.default_overrides
    config = build_config(args.model, spec.config_class, args.config, assignments, base)
    if args.print_config:
        print(yaml.safe_dump(config.to_dict(), sort_keys=False), end="")
        return 0
    if checkpoint is not None:
        _check_same_model(config, checkpoint, resume_path)
    if args.dataset is None or args.output is None:
        raise SpeechSynthError("train needs --dataset DIR and --output DIR")
    context = DistributedContext.from_environment(args.device)
    try:
        train_utterances, val_utterances = select_utterances(
            args.dataset, config.data, config.train.seed
        )
        if context.is_main:
            _write_config(args.output, config)
            log.info(
                "training %s on %d utterances (%d for validation), %d process(es), device %s",
                args.model,
                len(train_utterances),
                len(val_utterances),
                context.world_size,
                context.device,
            )
        trainer = Trainer(
            task, config, train_utterances, val_utterances, args.output, context, checkpoint
        )
        state = trainer.fit()
    finally:
        context.close()
    if context.is_main:
        _print_summary(args, state)
    return 0


def _write_config(output: Path, config) -> None:
    import yaml

    from speechsynth.fileio import write_text_atomic

    write_text_atomic(output / "config.yaml", yaml.safe_dump(config.to_dict(), sort_keys=False))


def _print_summary(args: argparse.Namespace, state) -> None:
    summary = {
        "output": str(args.output),
        "epochs": state.epoch,
        "steps": state.step,
        "last_val_loss": state.last_val_loss,
        "best_val_loss": None if state.best_val_loss == float("inf") else state.best_val_loss,
        "last_checkpoint": str(args.output / "checkpoint_last.pt"),
    }
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(
            f"trained {summary['epochs']} epochs ({summary['steps']} steps); "
            f"validation loss {summary['last_val_loss']}; checkpoints in {args.output}"
        )
