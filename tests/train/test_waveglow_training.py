import json

import pytest
import torch
from training_helpers import write_dataset

from speechsynth.cli import main
from speechsynth.data.formats import read_ljspeech
from speechsynth.models.checkpoint import read_checkpoint
from speechsynth.models.registry import get_spec, load_model
from speechsynth.train.config import build_config
from speechsynth.train.losses import waveglow_loss
from speechsynth.train.registry import get_task
from speechsynth.train.trainer import Trainer

TINY_WAVEGLOW = [
    "model.WN_config.n_channels=16",
    "model.WN_config.n_layers=2",
    "data.segment_length=4000",
    "train.num_workers=0",
]


def test_recipe_defaults_are_nvidias():
    task = get_task("waveglow")
    config = build_config(
        "waveglow", get_spec("waveglow").config_class, base=task.default_overrides
    )
    assert (config.train.learning_rate, config.train.weight_decay) == (1e-4, 0.0)
    assert (config.train.batch_size, config.data.segment_length) == (4, 8000)
    assert config.train.anneal_steps == ()
    assert config.model.WN_config["n_channels"] == 512


def test_nll_matches_its_definition():
    z = torch.randn(2, 8, 100, generator=torch.Generator().manual_seed(0))
    log_s = [torch.full((2, 4, 100), 0.1), torch.full((2, 2, 100), -0.2)]
    log_det_w = [torch.tensor(3.0), torch.tensor(-1.0)]
    expected = ((z * z).sum() / 2 - (0.1 * 800 - 0.2 * 400) - 2.0) / z.numel()
    torch.testing.assert_close(waveglow_loss(z, log_s, log_det_w), expected)


def test_tiny_waveglow_nll_falls_on_one_clip(ljspeech_mini, tmp_path):
    clip = next(u for u in read_ljspeech(ljspeech_mini) if u.utterance_id == "LJ001-0002")
    task = get_task("waveglow")
    settings = [*TINY_WAVEGLOW, "train.epochs=25", "train.batch_size=2", "train.learning_rate=1e-3"]
    config = build_config(
        "waveglow",
        get_spec("waveglow").config_class,
        base=task.default_overrides,
        assignments=settings,
    )
    Trainer(task, config, [clip, clip], [], tmp_path).fit()
    records = [json.loads(line) for line in (tmp_path / "train_log.jsonl").read_text().splitlines()]
    losses = [r["loss"] for r in records if r["event"] == "iteration"]
    assert len(losses) == 25
    assert min(losses[-5:]) < losses[0] - 1.0, losses
    assert records[-2]["items_per_s"] > 0  # counted in audio samples


def test_cli_trains_and_the_checkpoint_vocodes(ljspeech_mini, tmp_path, capsys):
    clips = [
        u for u in read_ljspeech(ljspeech_mini) if u.utterance_id in ("LJ001-0002", "LJ001-0008")
    ]
    dataset = write_dataset(clips, tmp_path / "data")
    output = tmp_path / "run"
    sets = [
        arg
        for item in [*TINY_WAVEGLOW, "train.epochs=1", "data.val_size=1"]
        for arg in ("--set", item)
    ]
    assert (
        main(
            [
                "train",
                "waveglow",
                "--dataset",
                str(dataset),
                "--output",
                str(output),
                *sets,
                "--json",
            ]
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out)["steps"] == 1
    checkpoint = read_checkpoint(output / "checkpoint_last.pt", "waveglow")
    assert checkpoint["experiment"]["train"]["learning_rate"] == pytest.approx(1e-4)
    loaded = load_model(output / "checkpoint_last.pt")
    assert loaded.name == "waveglow"
