import json
import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from fastpitch_helpers import prepared_clips
from training_helpers import iteration_records, write_dataset

from speechsynth.cli import main
from speechsynth.data.text_mel_pitch import collate_text_mel_durations
from speechsynth.errors import SpeechSynthError
from speechsynth.models.fastspeech import FastSpeechConfig
from speechsynth.models.registry import load_model
from speechsynth.train.bench import bench_fastspeech_training
from speechsynth.train.config import build_config, read_yaml_chain
from speechsynth.train.data import attach_files
from speechsynth.train.fastspeech import FASTSPEECH_RECIPE, FastSpeechTask
from speechsynth.train.losses import fastspeech_loss
from speechsynth.train.registry import get_task
from speechsynth.train.trainer import Trainer

RECIPES = Path(__file__).resolve().parents[2] / "recipes" / "fastspeech"

TINY_FASTSPEECH = [
    "model.d_model=32",
    "model.phoneme_side_n_layer=2",
    "model.phoneme_side_head=1",
    "model.phoneme_side_conv1d_filter_size=64",
    "model.phoneme_side_output_size=32",
    "model.mel_side_n_layer=2",
    "model.mel_side_head=1",
    "model.mel_side_conv1d_filter_size=64",
    "model.mel_side_output_size=32",
    "model.duration_predictor_filter_size=32",
    "model.max_seq_len=1024",
    "train.num_workers=0",
    "train.batch_size=4",
]
FAST_OPTIMISER = ["train.learning_rate=3e-3", "train.warmup_steps=0"]


@pytest.fixture(scope="module")
def clips(ljspeech_mini, tmp_path_factory):
    """(utterances, mel dir, durations dir) of the four shortest ljspeech-mini clips."""
    utterances, pitch_dir, durations_dir = prepared_clips(
        ljspeech_mini, tmp_path_factory.mktemp("fastspeech_data")
    )
    return utterances, pitch_dir.parent / "mels", durations_dir


def fastspeech_config(clips, *settings):
    _, mel_dir, durations_dir = clips
    data = [f"data.mel_dir={mel_dir}", f"data.durations_dir={durations_dir}"]
    return build_config(
        "fastspeech",
        FastSpeechConfig,
        base=FASTSPEECH_RECIPE,
        assignments=[*TINY_FASTSPEECH, *data, *settings],
    )


def with_files(clips, config):
    utterances = attach_files(clips[0], Path(config.data.mel_dir), "mel_path", "")
    return attach_files(utterances, Path(config.data.durations_dir), "duration_path", "")


def test_tiny_fastspeech_overfits_four_clips_with_teacher_durations(clips, tmp_path):
    config = fastspeech_config(clips, *FAST_OPTIMISER, "train.epochs=60")
    Trainer(FastSpeechTask(), config, with_files(clips, config), [], tmp_path).fit()
    records = iteration_records(tmp_path)
    first, last = records[0], records[-1]
    assert last["mel_loss"] * 5 <= first["mel_loss"], (first, last)  # measured 10x
    assert last["duration_loss"] < first["duration_loss"] / 10, (first, last)  # measured 85x
    assert set(last) >= {"mel_loss", "duration_loss", "grad_norm", "learning_rate"}


def test_loss_is_nvidias_on_a_padded_batch(clips):
    config = fastspeech_config(clips)
    task = get_task("fastspeech")
    model = task.build_model(config).eval()
    dataset = task.build_dataset(with_files(clips, config), config, True)
    batch = collate_text_mel_durations([dataset[index] for index in range(len(dataset))])
    assert len(set(batch.text_lengths.tolist())) > 1  # really padded
    torch.testing.assert_close(batch.durations.sum(1), batch.mel_lengths)
    with torch.no_grad():
        outputs = task.forward(model, batch)
        loss, parts = fastspeech_loss(
            outputs.mel, outputs.log_dur_pred, batch.mels, batch.text_lengths, batch.durations
        )
    # NVIDIA's FastspeechTrainer.loss, written out
    mel_target = batch.mels.transpose(1, 2)
    assert outputs.mel.shape == mel_target.shape
    mel_loss = (F.mse_loss(outputs.mel, mel_target, reduction="none") * mel_target.ne(0)).mean()
    text_pos_mask = (batch.text != 0).float()
    duration_loss = F.mse_loss(
        outputs.log_dur_pred, torch.log(batch.durations.float() + 1) * text_pos_mask
    )
    torch.testing.assert_close(parts["mel_loss"], mel_loss)
    torch.testing.assert_close(parts["duration_loss"], duration_loss)
    torch.testing.assert_close(loss, mel_loss + duration_loss)


def test_recipe_yaml_chain_resolves_to_nvidias_hparams():
    defaults = build_config("fastspeech", FastSpeechConfig, base=FASTSPEECH_RECIPE)
    trained = build_config("fastspeech", FastSpeechConfig, config_file=RECIPES / "train.yaml")
    assert trained.to_dict() == defaults.to_dict()  # the recipe is `train fastspeech`'s default
    train = trained.train
    assert (train.optimizer, train.betas, train.eps) == ("adam", (0.9, 0.98), 1e-9)
    assert train.learning_rate == pytest.approx(384**-0.5)
    assert (train.warmup_steps, train.batch_size, train.epochs) == (4000, 16, 394)
    assert math.isinf(train.grad_clip_thresh) and train.anneal_steps == ()
    assert trained.data.p_arpabet == 0 and trained.data.cleaners == ("english_cleaners",)
    assert trained.model == FastSpeechConfig()  # base.yaml = NVIDIA's model = our defaults
    assert trained.model.d_model == 384 and trained.model.phoneme_side_head == 2

    inferred = build_config("fastspeech", FastSpeechConfig, config_file=RECIPES / "infer.yaml")
    assert inferred.model == FastSpeechConfig()
    assert read_yaml_chain(RECIPES / "trt.yaml") == read_yaml_chain(RECIPES / "base.yaml")
    assert set(read_yaml_chain(RECIPES / "infer.yaml")) == {"model", "data"}


def test_cli_trains_one_epoch_and_the_checkpoint_loads(clips, tmp_path, capsys):
    utterances, mel_dir, durations_dir = clips
    dataset = write_dataset(utterances, tmp_path / "data")
    output = tmp_path / "run"
    settings = [
        *TINY_FASTSPEECH,
        "train.epochs=1",
        "data.val_size=1",
        f"data.mel_dir={mel_dir}",
        f"data.durations_dir={durations_dir}",
    ]
    sets = [arg for item in settings for arg in ("--set", item)]
    command = ["train", "fastspeech", "--dataset", str(dataset), "--output", str(output)]
    assert main([*command, *sets, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["steps"] == 1
    checkpoint = torch.load(output / "checkpoint_last.pt", weights_only=True)
    assert checkpoint["model_name"] == "fastspeech"
    assert checkpoint["experiment"]["train"]["warmup_steps"] == 4000
    assert math.isinf(checkpoint["experiment"]["train"]["grad_clip_thresh"])
    loaded = load_model(output / "checkpoint_last.pt")
    assert loaded.name == "fastspeech" and loaded.model.config.d_model == 32
    text = torch.tensor([[20, 30, 11, 40, 50]])
    assert loaded.model.infer(text).mels.shape[1] == 80

    assert main([*command, *sets, "--set", "data.p_arpabet=0.5"]) == 2
    assert "set data.p_arpabet=0" in capsys.readouterr().err


def test_arpabet_is_refused_with_teacher_durations(clips):
    config = fastspeech_config(clips, "data.p_arpabet=1.0")
    with pytest.raises(SpeechSynthError, match=r"teacher durations.*data\.p_arpabet=0"):
        FastSpeechTask().build_dataset(with_files(clips, config), config, True)


def test_missing_durations_name_the_command(clips):
    config = fastspeech_config(clips)
    utterances = attach_files(clips[0], Path(config.data.mel_dir), "mel_path", "")
    dataset = FastSpeechTask().build_dataset(utterances, config, True)
    with pytest.raises(SpeechSynthError, match="prepare durations"):
        dataset[0]


def test_training_bench_returns_positive_numbers(clips):
    model = FastSpeechTask().build_model(fastspeech_config(clips))
    before = {name: value.clone() for name, value in model.state_dict().items()}
    result = bench_fastspeech_training(
        model, batch_size=2, mel_frames=40, text_length=12, steps=1, warmup_steps=0
    )
    assert result.steps == 1 and result.seconds_per_step_mean > 0
    assert result.mel_frames_per_s > 0 and result.threads >= 1
    assert all(torch.equal(before[name], value) for name, value in model.state_dict().items())
