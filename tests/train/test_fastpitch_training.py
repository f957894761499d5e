import json
from pathlib import Path

import pytest
import torch
from fastpitch_helpers import TINY_FASTPITCH, prepared_clips
from training_helpers import iteration_records

from speechsynth.data.text_mel_pitch import collate_fastpitch
from speechsynth.infer.alignment import batch_alignment_scores
from speechsynth.models.fastpitch import FastPitchConfig
from speechsynth.models.masks import mask_from_lengths
from speechsynth.models.registry import load_model
from speechsynth.train.config import build_config
from speechsynth.train.data import attach_files
from speechsynth.train.fastpitch import FASTPITCH_RECIPE, FastPitchTask
from speechsynth.train.trainer import Trainer

FAST_OPTIMISER = [
    "train.optimizer=adam",
    "train.learning_rate=3e-3",
    "train.warmup_steps=0",
    "train.betas=0.9,0.98",
    "data.pitch_mean=200",
    "data.pitch_std=50",
]


@pytest.fixture(scope="module")
def clips(ljspeech_mini, tmp_path_factory):
    return prepared_clips(ljspeech_mini, tmp_path_factory.mktemp("fastpitch_data"))


def fastpitch_config(clips, *settings):
    _, pitch_dir, durations_dir = clips
    data = [f"data.pitch_dir={pitch_dir}", f"data.mel_dir={pitch_dir.parent / 'mels'}"]
    if "model.learned_aligner=false" in settings:
        data.append(f"data.durations_dir={durations_dir}")
    assignments = [*TINY_FASTPITCH, *FAST_OPTIMISER, *data, *settings]
    return build_config(
        "fastpitch", FastPitchConfig, base=FASTPITCH_RECIPE, assignments=assignments
    )


def with_files(clips, config):
    """The clips pointing at their mel, pitch (and duration) files, as `train` attaches them."""
    utterances = clips[0]
    for directory, field in (
        (config.data.mel_dir, "mel_path"),
        (config.data.pitch_dir, "pitch_path"),
        (config.data.durations_dir, "duration_path"),
    ):
        if directory:
            utterances = attach_files(utterances, Path(directory), field, "")
    return utterances


def test_tiny_fastpitch_overfits_four_clips_with_teacher_durations(clips, tmp_path):
    config = fastpitch_config(clips, "model.learned_aligner=false", "train.epochs=80")
    Trainer(FastPitchTask(), config, with_files(clips, config), [], tmp_path).fit()
    records = iteration_records(tmp_path)
    first, last = records[0], records[-1]
    assert last["mel_loss"] * 5 <= first["mel_loss"], (first, last)
    assert last["duration_loss"] < first["duration_loss"] / 5
    assert last["pitch_loss"] < first["pitch_loss"] / 2
    assert "attention_loss" not in last


def test_learned_aligner_finds_monotonic_durations_summing_to_mel_lengths(clips, tmp_path):
    config = fastpitch_config(clips, "model.energy_conditioning=true", "train.epochs=160")
    trainer = Trainer(FastPitchTask(), config, with_files(clips, config), [], tmp_path)
    trainer.fit()
    records = iteration_records(tmp_path)
    assert records[-1]["attention_loss"] < records[0]["attention_loss"] * 0.7
    assert records[-1]["mel_loss"] * 3 <= records[0]["mel_loss"]
    batch = next(iter(trainer.train_loader))
    model = trainer.model.eval()
    with torch.no_grad():
        outputs = FastPitchTask().forward(model, batch)
    torch.testing.assert_close(outputs.attn_hard_dur.sum(1).long(), batch.mel_lengths)
    # The aligner itself (without the beta-binomial prior that guides it) learned to align.
    untrained = FastPitchTask().build_model(config).eval()
    before, after = aligner_scores(untrained, batch), aligner_scores(model, batch)
    # (measured: diagonality 0.16 -> 0.36, monotonicity -0.03 -> 0.30 after 150 steps)
    assert after["attention_diagonality"] > before["attention_diagonality"] + 0.12, (before, after)
    assert after["attention_monotonicity"] > before["attention_monotonicity"] + 0.15, after
    # ... and the duration predictor learned those durations: predicted lengths within 30%
    # (measured 9-22%; untrained: 65-75% short).
    with torch.no_grad():
        predicted = model.infer(batch.text, batch.text_lengths).mel_lengths
    relative_error = (predicted - batch.mel_lengths).abs() / batch.mel_lengths
    assert relative_error.max() < 0.3, (predicted, batch.mel_lengths)


@torch.no_grad()
def aligner_scores(model, batch):
    text_embedding = model.encoder.word_emb(batch.text).transpose(1, 2)
    padding = ~mask_from_lengths(batch.text_lengths, batch.text.size(1))
    attn_soft, _ = model.attention(batch.mels, text_embedding, padding, None)
    return batch_alignment_scores(attn_soft[:, 0], batch.mel_lengths, batch.text_lengths)


def test_padded_batch_step_with_the_recipe_has_finite_gradients(clips):
    config = fastpitch_config(
        clips,
        "model.energy_conditioning=true",
        "train.optimizer=lamb",
        "train.learning_rate=0.1",
    )
    task = FastPitchTask()
    model = task.build_model(config).train()
    dataset = task.build_dataset(with_files(clips, config), config, True)
    batch = collate_fastpitch([dataset[index] for index in range(len(dataset))])
    assert len(set(batch.text_lengths.tolist())) > 1  # really padded
    task.start_epoch(config, 300)  # the binarisation loss on too
    loss, named = task.compute_loss(model, batch)
    loss.backward()
    assert torch.isfinite(loss)
    assert named["binarization_loss"] > 0 and named["attention_loss"] > 0
    gradients = [p.grad for p in model.parameters() if p.grad is not None]
    assert len(gradients) == len([p for p in model.parameters() if p.requires_grad])
    assert all(torch.isfinite(gradient).all() for gradient in gradients)


def test_bf16_step_ema_checkpoint_and_pitch_statistics(clips, tmp_path):
    config = fastpitch_config(
        clips, "train.amp=true", "train.ema_decay=0.5", "train.epochs=2", "data.pitch_mean=0"
    )
    stats = clips[1] / "pitch_stats.json"
    stats.write_text(json.dumps({"mean": 180.5, "std": 40.25}))
    try:
        Trainer(FastPitchTask(), config, with_files(clips, config), [], tmp_path).fit()
    finally:
        stats.unlink()
    checkpoint = torch.load(tmp_path / "checkpoint_last.pt", weights_only=True)
    assert checkpoint["ema_state_dict"] is not None
    assert checkpoint["state_dict"]["pitch_mean"].item() == pytest.approx(180.5)
    assert checkpoint["state_dict"]["pitch_std"].item() == pytest.approx(40.25)
    assert all(torch.isfinite(value).all() for value in checkpoint["state_dict"].values())
    loaded = load_model(tmp_path / "checkpoint_last.pt")
    assert loaded.name == "fastpitch"
    ema_weight = checkpoint["ema_state_dict"]["proj.weight"]
    assert not torch.equal(ema_weight, checkpoint["state_dict"]["proj.weight"])
    assert torch.equal(loaded.model.proj.weight, ema_weight)  # inference uses the average


def test_two_process_ddp_run_with_the_learned_aligner(clips, ljspeech_mini, tmp_path):
    """torchrun + gloo: every trainable parameter gets a gradient (DDP would stop otherwise)."""
    import os
    import subprocess
    import sys

    from test_distributed import free_port

    utterances, pitch_dir, _ = clips
    filelist = tmp_path / "train.txt"
    filelist.write_text("".join(f"wavs/{u.utterance_id}.wav|{u.text}\n" for u in utterances))
    settings = [*TINY_FASTPITCH, *FAST_OPTIMISER, "train.epochs=1", "train.batch_size=2"]
    settings += [f"data.pitch_dir={pitch_dir}", f"data.mel_dir={pitch_dir.parent / 'mels'}"]
    settings += [f"data.train_filelist={filelist}", "model.energy_conditioning=true"]
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2"]
    command += ["--master_addr=127.0.0.1", f"--master_port={free_port()}", "-m", "speechsynth"]
    command += ["train", "fastpitch", "--dataset", str(ljspeech_mini), "--output", str(tmp_path)]
    command += [argument for setting in settings for argument in ("--set", setting)]
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        command, capture_output=True, text=True, env=environment, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    checkpoint = torch.load(tmp_path / "checkpoint_last.pt", weights_only=True)
    assert (checkpoint["world_size"], checkpoint["step"]) == (2, 1)
