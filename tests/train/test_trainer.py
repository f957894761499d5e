import json
import math

import pytest
import torch
from training_helpers import (
    DETERMINISTIC,
    TINY_TACOTRON2,
    DeterministicTacotron2Task,
    assert_same_first_adam_step,
    state_dicts_equal,
    write_dataset,
)

from speechsynth.cli import main
from speechsynth.models.checkpoint import read_checkpoint, write_checkpoint
from speechsynth.models.tacotron2 import Tacotron2Config
from speechsynth.train.config import build_config
from speechsynth.train.tacotron2 import Tacotron2Task
from speechsynth.train.trainer import Trainer


def tiny_config(*extra: str):
    return build_config("tacotron2", Tacotron2Config, assignments=[*TINY_TACOTRON2, *extra])


def test_resumed_run_ends_with_the_same_weights(equal_length_clips, tmp_path):
    clips = equal_length_clips
    full = Trainer(
        Tacotron2Task(),
        tiny_config("train.epochs=4", "train.batch_size=1"),
        clips,
        clips[:1],
        tmp_path / "full",
    )
    full.fit()

    first_half = tiny_config("train.epochs=2", "train.batch_size=1")
    Trainer(Tacotron2Task(), first_half, clips, clips[:1], tmp_path / "half").fit()
    checkpoint = read_checkpoint(tmp_path / "half" / "checkpoint_last.pt", "tacotron2")
    assert (checkpoint["epoch"], checkpoint["step"]) == (2, 4)
    resumed_config = build_config(
        "tacotron2", Tacotron2Config, base=checkpoint["experiment"], assignments=["train.epochs=4"]
    )
    resumed = Trainer(
        Tacotron2Task(), resumed_config, clips, clips[:1], tmp_path / "half", resume_from=checkpoint
    )
    state = resumed.fit()

    assert (state.epoch, state.step) == (4, 8)
    assert state_dicts_equal(full.model.state_dict(), resumed.model.state_dict())
    assert state.last_val_loss == full.state.last_val_loss


def test_accumulating_two_halves_equals_one_batch(equal_length_clips, tmp_path):
    clips = equal_length_clips
    whole = Trainer(
        DeterministicTacotron2Task(),
        tiny_config("train.epochs=1", *DETERMINISTIC),
        clips,
        [],
        tmp_path / "a",
    )
    halves_config = tiny_config(
        "train.epochs=1", "train.batch_size=1", "train.grad_accumulation=2", *DETERMINISTIC
    )
    halves = Trainer(DeterministicTacotron2Task(), halves_config, clips, [], tmp_path / "b")
    assert state_dicts_equal(whole.model.state_dict(), halves.model.state_dict())  # same seed
    whole.fit()
    halves.fit()
    assert whole.state.step == halves.state.step == 1
    assert_same_first_adam_step(
        (whole.model.state_dict(), whole.optimizer.state_dict()),
        (halves.model.state_dict(), halves.optimizer.state_dict()),
        whole.config.train.learning_rate,
    )


def test_bf16_autocast_step_runs_on_cpu(equal_length_clips, tmp_path):
    clips = equal_length_clips
    trainer = Trainer(
        Tacotron2Task(), tiny_config("train.epochs=1", "train.amp=true"), clips, clips, tmp_path
    )
    before = {name: value.clone() for name, value in trainer.model.state_dict().items()}
    seen_dtypes = set()
    hook = trainer.model.decoder.linear_projection.register_forward_hook(
        lambda module, inputs, output: seen_dtypes.add(output.dtype)
    )
    state = trainer.fit()
    hook.remove()
    assert torch.bfloat16 in seen_dtypes
    assert math.isfinite(state.last_val_loss)
    changed = [
        name
        for name, value in trainer.model.state_dict().items()
        if not torch.equal(value, before[name])
    ]
    assert "decoder.linear_projection.linear_layer.weight" in changed


def test_checkpoints_logs_and_keep_last(equal_length_clips, tmp_path):
    clips = equal_length_clips
    config = tiny_config(
        "train.epochs=5",
        "train.epochs_per_checkpoint=2",
        "train.keep_last_checkpoints=1",
        "train.batch_size=1",
    )
    Trainer(Tacotron2Task(), config, clips, clips[:1], tmp_path).fit()
    names = sorted(path.name for path in tmp_path.glob("checkpoint_*.pt"))
    assert names == ["checkpoint_best.pt", "checkpoint_epoch_0004.pt", "checkpoint_last.pt"]
    checkpoint = read_checkpoint(tmp_path / "checkpoint_last.pt")
    for key in (
        "model_name",
        "model_config",
        "experiment",
        "optimizer",
        "rng_states",
        "epoch",
        "step",
        "scheduler",
    ):
        assert key in checkpoint
    assert checkpoint["model_config"]["encoder_embedding_dim"] == 32
    records = [json.loads(line) for line in (tmp_path / "train_log.jsonl").read_text().splitlines()]
    iterations = [r for r in records if r["event"] == "iteration"]
    epochs = [r for r in records if r["event"] == "epoch"]
    assert len(iterations) == 10 and len(epochs) == 5
    for key in ("loss", "learning_rate", "grad_norm", "items_per_s", "mel_loss", "gate_loss"):
        assert math.isfinite(iterations[-1][key])
    assert all(r["val_loss"] is not None for r in epochs)
    assert list((tmp_path / "tensorboard").glob("events.out.tfevents.*"))
    assert not list(tmp_path.glob("*.tmp*"))


def test_cli_train_resume_and_its_errors(equal_length_clips, tmp_path, capsys):
    dataset = write_dataset(equal_length_clips, tmp_path / "data")
    output = tmp_path / "run"
    sets = [
        arg
        for item in [*TINY_TACOTRON2, "data.val_size=1", "train.epochs=1"]
        for arg in ("--set", item)
    ]
    base = ["train", "tacotron2", "--dataset", str(dataset), "--output", str(output)]
    assert main([*base, *sets, "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["epochs"], summary["steps"]) == (1, 1)
    assert (output / "config.yaml").is_file()

    assert main([*base, "--resume", "--set", "train.epochs=2", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["epochs"] == 2

    assert main([*base, "--resume", "--set", "model.attention_dim=16"]) == 2
    assert (
        "model config differs from the checkpoint's (attention_dim: 32 -> 16)"
        in capsys.readouterr().err
    )

    payload = read_checkpoint(output / "checkpoint_last.pt")
    write_checkpoint(tmp_path / "other.pt", {**payload, "model_name": "waveglow"})
    assert main([*base, "--resume", str(tmp_path / "other.pt")]) == 2
    assert "is a waveglow checkpoint, expected tacotron2" in capsys.readouterr().err

    assert (
        main(["train", "tacotron2", "--dataset", str(tmp_path / "nope"), "--output", str(output)])
        == 2
    )
    assert "dataset not found" in capsys.readouterr().err


@pytest.mark.parametrize("bad", ["truncated", "nvidia"])
def test_resume_refuses_unusable_checkpoints(tmp_path, capsys, bad):
    path = tmp_path / "bad.pt"
    if bad == "truncated":
        path.write_bytes(b"PK\x03\x04 not really a zip")
        expected = "not a readable checkpoint"
    else:
        torch.save({"state_dict": {}, "config": {}}, path)
        expected = "not a speechsynth checkpoint"
    assert main(["train", "tacotron2", "--output", str(tmp_path), "--resume", str(path)]) == 2
    assert expected in capsys.readouterr().err
