"""`speechsynth train MODEL`: the shared trainer, for every model."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from speechsynth.cli.help import add_command

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


def _request(args: argparse.Namespace):
    from speechsynth.train.run import TrainRequest

    return TrainRequest(
        model=args.model,
        dataset=args.dataset,
        output=args.output,
        config_file=args.config,
        assignments=tuple(args.assignments),
        resume=args.resume,
        device=args.device,
        amp=args.amp,
        model_options=(("aligner", args.aligner),) if args.aligner else (),
    )


def run_train(args: argparse.Namespace) -> int:
    # Imported here, so `speechsynth --help` stays fast.
    from speechsynth.train.run import config_yaml, resolve_run, train

    request = _request(args)
    if args.print_config:
        print(config_yaml(resolve_run(request).config), end="")
        return 0
    summary = train(request)
    if summary is None:  # not the main process of a distributed run
        return 0
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(
            f"trained {summary['epochs']} epochs ({summary['steps']} steps); "
            f"validation loss {summary['last_val_loss']}; checkpoints in {args.output}"
        )
    return 0
