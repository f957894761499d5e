"""The shared training loop: AMP, DDP, gradient accumulation, validation, checkpoints, logs.

Written once for every model; a `TrainingTask` supplies the model-specific pieces.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset, DistributedSampler
from tqdm import tqdm

from speechsynth import __version__
from speechsynth.models.checkpoint import write_checkpoint
from speechsynth.train.config import ExperimentConfig
from speechsynth.train.distributed import DistributedContext
from speechsynth.train.ema import make_ema_model, update_ema
from speechsynth.train.optimizers import build_optimizer
from speechsynth.train.task import TrainingTask

log = logging.getLogger(__name__)

LAST_CHECKPOINT = "checkpoint_last.pt"
BEST_CHECKPOINT = "checkpoint_best.pt"
LOG_FILE = "train_log.jsonl"


@dataclass
class TrainingState:
    epoch: int = 0  # epochs completed
    step: int = 0  # optimizer steps taken
    best_val_loss: float = math.inf
    last_val_loss: float | None = None


def rng_state() -> dict[str, Any]:
    """Every RNG the loop touches, in a form `torch.load(weights_only=True)` accepts."""
    algorithm, keys, position, has_gauss, cached_gaussian = np.random.get_state()
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": [algorithm, torch.from_numpy(keys.astype(np.int64)), position, has_gauss],
        "numpy_gaussian": float(cached_gaussian),
        "python": random.getstate(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    algorithm, keys, position, has_gauss = state["numpy"]
    np.random.set_state(
        (algorithm, keys.numpy().astype(np.uint32), position, has_gauss, state["numpy_gaussian"])
    )
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


class Trainer:
    def __init__(
        self,
        task: TrainingTask,
        config: ExperimentConfig,
        train_utterances: list,
        val_utterances: list,
        output_dir: Path,
        context: DistributedContext | None = None,
        resume_from: dict[str, Any] | None = None,
        progress: bool | None = None,
    ):
        self.task = task
        self.config = config
        self.output_dir = output_dir
        self.context = context or DistributedContext()
        self.device = self.context.device
        self.train_config = config.train
        self.progress = sys.stderr.isatty() if progress is None else progress
        seed_everything(config.train.seed + self.context.rank)
        self.model = task.build_model(config).to(self.device)
        self.parallel_model = self._wrap(self.model)
        self.optimizer = build_optimizer(
            config.train.optimizer,
            self.model.parameters(),
            config.train.learning_rate,
            config.train.betas,
            config.train.eps,
            config.train.weight_decay,
        )
        self.ema_model = make_ema_model(self.model) if config.train.ema_decay > 0 else None
        self.use_fp16 = config.train.amp and self.device.type == "cuda"
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.use_fp16)
        self.train_loader = self._loader(task.build_dataset(train_utterances, config, True), True)
        self.val_loader = (
            self._loader(task.build_dataset(val_utterances, config, False), False)
            if val_utterances
            else None
        )
        self.state = TrainingState()
        self._writer = None
        if resume_from is not None:
            self._resume(resume_from)

    # --- set-up ---------------------------------------------------------------------------

    def _wrap(self, model: nn.Module) -> nn.Module:
        if not self.context.enabled:
            return model
        device_ids = [self.context.local_rank] if self.device.type == "cuda" else None
        return DistributedDataParallel(model, device_ids=device_ids)

    def _loader(self, dataset: Dataset, shuffle: bool) -> DataLoader:
        # A DistributedSampler even in one process: its order depends only on (seed, epoch),
        # which is what makes `--resume` reproduce an uninterrupted run exactly.
        sampler = DistributedSampler(
            dataset,
            num_replicas=self.context.world_size,
            rank=self.context.rank,
            shuffle=shuffle,
            seed=self.train_config.seed,
            drop_last=False,
        )
        return DataLoader(
            dataset,
            batch_size=self.train_config.batch_size,
            sampler=sampler,
            num_workers=self.train_config.num_workers,
            collate_fn=self.task.collate,
            pin_memory=self.device.type == "cuda",
            drop_last=False,
            persistent_workers=False,
        )

    def _autocast(self) -> contextlib.AbstractContextManager:
        dtype = torch.float16 if self.device.type == "cuda" else torch.bfloat16
        return torch.autocast(self.device.type, dtype=dtype, enabled=self.train_config.amp)

    # --- the loop -------------------------------------------------------------------------

    def fit(self) -> TrainingState:
        while self.state.epoch < self.train_config.epochs:
            epoch = self.state.epoch
            started = time.perf_counter()
            train_loss = self._train_epoch(epoch)
            val_loss = self.validate()
            self.state.epoch += 1
            self.state.last_val_loss = val_loss
            is_best = val_loss is not None and val_loss < self.state.best_val_loss
            if is_best:
                self.state.best_val_loss = val_loss
            self._log_epoch(epoch, train_loss, val_loss, time.perf_counter() - started)
            self._save_checkpoints(is_best)
        if self._writer is not None:
            self._writer.close()
        return self.state

    def _micro_batch_groups(self, epoch: int) -> Iterator[list[Any]]:
        """Batches grouped for one optimizer step each (gradient accumulation)."""
        self.train_loader.sampler.set_epoch(epoch)
        accumulation = max(1, self.train_config.grad_accumulation)
        limit = self.train_config.max_steps_per_epoch
        group: list[Any] = []
        steps = 0
        for batch in self.train_loader:
            group.append(batch)
            if len(group) == accumulation:
                yield group
                group, steps = [], steps + 1
                if limit and steps >= limit:
                    return
        if group:
            yield group

    def _n_steps(self) -> int:
        accumulation = max(1, self.train_config.grad_accumulation)
        steps = math.ceil(len(self.train_loader) / accumulation)
        limit = self.train_config.max_steps_per_epoch
        return min(steps, limit) if limit else steps

    def _train_epoch(self, epoch: int) -> float:
        start_epoch = getattr(self.task, "start_epoch", None)
        if start_epoch is not None:
            start_epoch(self.config, epoch)
        self.parallel_model.train()
        losses = []
        groups = tqdm(
            self._micro_batch_groups(epoch),
            total=self._n_steps(),
            desc=f"epoch {epoch + 1}/{self.train_config.epochs}",
            unit="step",
            disable=not (self.progress and self.context.is_main),
            leave=False,
        )
        for group in groups:
            metrics = self._optimizer_step(epoch, group)
            losses.append(metrics["loss"])
            groups.set_postfix(loss=f"{metrics['loss']:.4f}")
        return float(np.mean(losses)) if losses else math.nan

    def _optimizer_step(self, epoch: int, group: list[Any]) -> dict[str, float]:
        started = time.perf_counter()
        learning_rate = self.task.learning_rate(self.config, epoch, self.state.step)
        for parameter_group in self.optimizer.param_groups:
            parameter_group["lr"] = learning_rate
        loss_sum, named_sums, n_items = 0.0, {}, 0
        for index, batch in enumerate(group):
            batch = self.task.move_batch(batch, self.device)
            synchronise = index == len(group) - 1
            no_sync = getattr(self.parallel_model, "no_sync", contextlib.nullcontext)
            with contextlib.nullcontext() if synchronise else no_sync(), self._autocast():
                loss, named = self.task.compute_loss(self.parallel_model, batch)
                self.scaler.scale(loss / len(group)).backward()
            loss_sum += float(loss.detach())
            for name, value in named.items():
                named_sums[name] = named_sums.get(name, 0.0) + value
            n_items += self.task.count_items(batch)
        self.scaler.unscale_(self.optimizer)
        grad_norm = float(
            torch.nn.utils.clip_grad_norm_(
                self.model.parameters(), self.train_config.grad_clip_thresh
            )
        )
        self.scaler.step(self.optimizer)  # skipped by the scaler when fp16 gradients overflowed
        self.scaler.update()
        self.optimizer.zero_grad(set_to_none=True)
        if self.ema_model is not None:
            update_ema(self.ema_model, self.model, self.train_config.ema_decay)
        self.state.step += 1
        metrics = {
            "loss": self.context.mean(loss_sum / len(group)),
            **{name: self.context.mean(total / len(group)) for name, total in named_sums.items()},
            "learning_rate": learning_rate,
            "grad_norm": grad_norm,
            "items_per_s": self.context.total(n_items) / (time.perf_counter() - started),
        }
        self._log_iteration(epoch, metrics)
        return metrics

    @torch.no_grad()
    def validate(self) -> float | None:
        """Mean validation loss over every process's share of the validation set (of the
        weights' moving average when train.ema_decay > 0: those are the weights inference uses)."""
        if self.val_loader is None:
            return None
        self.parallel_model.eval()
        model = self.inference_model
        weighted_sum, count = 0.0, 0
        for batch in self.val_loader:
            batch = self.task.move_batch(batch, self.device)
            with self._autocast():
                loss, _ = self.task.compute_loss(model, batch)
            size = self.task.count_items(batch)
            weighted_sum += float(loss) * size
            count += size
        total_count = self.context.total(count)
        return self.context.total(weighted_sum) / total_count if total_count else None

    @property
    def inference_model(self) -> nn.Module:
        return self.ema_model if self.ema_model is not None else self.model

    # --- logs -----------------------------------------------------------------------------

    @property
    def writer(self):
        if self._writer is None:
            from torch.utils.tensorboard import SummaryWriter  # slow import; main process only

            self._writer = SummaryWriter(str(self.output_dir / "tensorboard"))
        return self._writer

    def _write_json_line(self, record: dict) -> None:
        self.output_dir.mkdir(parents=True, exist_ok=True)
        with open(self.output_dir / LOG_FILE, "a", encoding="utf-8") as log_file:
            log_file.write(json.dumps(record) + "\n")

    def _log_iteration(self, epoch: int, metrics: dict[str, float]) -> None:
        if not self.context.is_main or self.state.step % max(1, self.train_config.log_every):
            return
        self._write_json_line(
            {"event": "iteration", "epoch": epoch + 1, "step": self.state.step, **metrics}
        )
        for name, value in metrics.items():
            self.writer.add_scalar(f"train/{name}", value, self.state.step)

    def _log_epoch(
        self, epoch: int, train_loss: float, val_loss: float | None, seconds: float
    ) -> None:
        if not self.context.is_main:
            return
        record = {
            "event": "epoch",
            "epoch": epoch + 1,
            "step": self.state.step,
            "train_loss": train_loss,
            "val_loss": val_loss,
            "seconds": round(seconds, 3),
        }
        self._write_json_line(record)
        log.info(
            "epoch %d: train loss %.5f, val loss %s, %.1f s",
            epoch + 1,
            train_loss,
            "n/a" if val_loss is None else f"{val_loss:.5f}",
            seconds,
        )
        self.writer.add_scalar("epoch/train_loss", train_loss, self.state.step)
        if val_loss is not None:
            self.writer.add_scalar("epoch/val_loss", val_loss, self.state.step)
        self._log_images()
        self.writer.flush()

    @torch.no_grad()
    def _log_images(self) -> None:
        loader = self.val_loader or self.train_loader
        batch = self.task.move_batch(next(iter(loader)), self.device)
        model = self.inference_model
        model.eval()
        for name, image in self.task.images(model, batch).items():
            self.writer.add_image(
                name, image.float().clamp(0, 1).flip(0), self.state.step, dataformats="HW"
            )

    # --- checkpoints ----------------------------------------------------------------------

    def checkpoint_payload(self, rng_states: list[dict]) -> dict[str, Any]:
        return {
            "model_name": self.task.model_name,
            "model_config": self.config.to_dict()["model"],
            "state_dict": self.model.state_dict(),
            "ema_state_dict": self.ema_model.state_dict() if self.ema_model is not None else None,
            "experiment": self.config.to_dict(),
            "epoch": self.state.epoch,
            "step": self.state.step,
            "best_val_loss": self.state.best_val_loss,
            "last_val_loss": self.state.last_val_loss,
            "optimizer": self.optimizer.state_dict(),
            "scaler": self.scaler.state_dict() if self.use_fp16 else None,
            "scheduler": {
                "kind": "function of (epoch, step)",
                "epoch": self.state.epoch,
                "step": self.state.step,
            },
            "rng_states": rng_states,
            "world_size": self.context.world_size,
            "speechsynth_version": __version__,
        }

    def _save_checkpoints(self, is_best: bool) -> None:
        rng_states = self.context.gather_objects(rng_state())  # every rank takes part
        if not self.context.is_main:
            return
        payload = self.checkpoint_payload(rng_states)
        write_checkpoint(self.output_dir / LAST_CHECKPOINT, payload)
        if is_best:
            write_checkpoint(self.output_dir / BEST_CHECKPOINT, payload)
        if self.state.epoch % max(1, self.train_config.epochs_per_checkpoint) == 0:
            write_checkpoint(
                self.output_dir / f"checkpoint_epoch_{self.state.epoch:04d}.pt", payload
            )
            self._remove_old_checkpoints()

    def _remove_old_checkpoints(self) -> None:
        periodic = sorted(self.output_dir.glob("checkpoint_epoch_*.pt"))
        keep = max(1, self.train_config.keep_last_checkpoints)
        for old in periodic[:-keep]:
            old.unlink(missing_ok=True)

    def _resume(self, payload: dict[str, Any]) -> None:
        """Continue from a checkpoint payload (`read_checkpoint`) of this task's model."""
        self.model.load_state_dict(payload["state_dict"])
        if self.ema_model is not None:
            self.ema_model.load_state_dict(payload.get("ema_state_dict") or payload["state_dict"])
        self.optimizer.load_state_dict(payload["optimizer"])
        if self.use_fp16 and payload.get("scaler"):
            self.scaler.load_state_dict(payload["scaler"])
        self.state = TrainingState(
            epoch=payload["epoch"],
            step=payload["step"],
            best_val_loss=payload["best_val_loss"],
            last_val_loss=payload.get("last_val_loss"),
        )
        rng_states = payload["rng_states"]
        if len(rng_states) == self.context.world_size:
            set_rng_state(rng_states[self.context.rank])
        else:
            log.warning(
                "the checkpoint was saved by %d process(es), this run has %d: random streams "
                "restart from the seed, so the run continues but not bit-exactly",
                len(rng_states),
                self.context.world_size,
            )
            seed_everything(self.train_config.seed + self.context.rank + payload["epoch"])
        log.info("resumed at epoch %d, step %d", self.state.epoch, self.state.step)
