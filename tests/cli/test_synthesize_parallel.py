"""`synthesize` with FastPitch and FastSpeech checkpoints (NVIDIA's, from the parity fixtures)."""

import json

import pytest
import soundfile
import torch

from speechsynth.cli import main
from speechsynth.infer.pitch_transforms import PitchTransformSpec, build_pitch_transform
from speechsynth.models.registry import load_model
from speechsynth.text import TextProcessor

FAST = ["--griffin-lim-iters", "2", "--device", "cpu", "--json"]
TEXT = "Printing, in the only sense with which we are at present concerned."


def synthesize(capsys, checkpoint, tmp_path, *arguments) -> dict:
    output = tmp_path / "out"
    assert (
        main(
            [
                "synthesize",
                "--model",
                str(checkpoint),
                "--text",
                TEXT,
                "-o",
                str(output),
                *FAST,
                *arguments,
            ]
        )
        == 0
    )
    return json.loads(capsys.readouterr().out)


def frames(summary: dict) -> int:
    return summary["utterances"][0]["frames"]


@pytest.mark.parametrize("fixture", ["fastpitch10.pt", "fastpitch11.pt", "fastpitch11_energy.pt"])
def test_pace_two_halves_the_frames(parity_dir, tmp_path, capsys, fixture):
    normal = frames(synthesize(capsys, parity_dir / fixture, tmp_path))
    fast = frames(synthesize(capsys, parity_dir / fixture, tmp_path, "--pace", "2.0"))
    slow = frames(synthesize(capsys, parity_dir / fixture, tmp_path, "--pace", "0.5"))
    # Each symbol's frames are rounded after the division: within half a frame per symbol.
    symbols = len(TextProcessor(("english_cleaners",), 0.0).encode(TEXT))
    assert abs(fast - normal / 2) <= symbols / 2
    assert abs(fast - normal / 2) / normal < 0.05
    assert abs(slow - 2 * normal) <= symbols / 2


def test_pitch_shift_raises_the_mean_predicted_pitch_by_that_many_hertz(parity_dir):
    model = load_model(parity_dir / "fastpitch11.pt").model
    text = torch.tensor([TextProcessor(("english_cleaners",), 0.0).encode(TEXT)])
    lengths = torch.tensor([text.size(1)])
    mean, std = model.pitch_mean, model.pitch_std
    plain = model.infer(text, lengths).pitch_pred * std + mean
    transform = build_pitch_transform(PitchTransformSpec(shift_hz=50.0))
    shifted = model.infer(text, lengths, pitch_transform=transform).pitch_pred * std + mean
    assert float((shifted - plain).mean()) == pytest.approx(50.0, abs=1e-3)


def test_pitch_options_reach_the_model(parity_dir, tmp_path, capsys):
    checkpoint = parity_dir / "fastpitch11.pt"
    synthesize(capsys, checkpoint, tmp_path)
    baseline, _ = soundfile.read(tmp_path / "out" / "0001.wav")
    summary = synthesize(capsys, checkpoint, tmp_path, "--pitch-invert", "--pitch-shift", "30")
    changed, _ = soundfile.read(tmp_path / "out" / "0001.wav")
    assert summary["pitch"]["invert"] is True and summary["pitch"]["shift_hz"] == 30.0
    assert len(changed) == len(baseline)  # pitch does not change durations
    assert not (abs(changed - baseline) < 1e-6).all()


def test_fastspeech_alpha_scales_the_frames(parity_dir, tmp_path, capsys):
    checkpoint = parity_dir / "fastspeech.pt"
    normal = frames(synthesize(capsys, checkpoint, tmp_path))
    slower = frames(synthesize(capsys, checkpoint, tmp_path, "--alpha", "1.3"))
    assert slower / normal == pytest.approx(1.3, rel=0.05)


@pytest.mark.parametrize(
    ("fixture", "option", "message"),
    [
        (
            "tacotron2.pt",
            ["--pace", "1.5"],
            "tacotron2 model has no pace control (its controls: gate_threshold, max_decoder_steps)",
        ),
        ("fastspeech.pt", ["--pitch-flatten"], "no pitch control (its controls: alpha)"),
        ("fastpitch11.pt", ["--alpha", "1.2"], "no alpha control (its controls: pace, pitch)"),
    ],
)
def test_controls_of_another_model_are_refused(
    parity_dir, tmp_path, capsys, fixture, option, message
):
    output = tmp_path / "out"
    code = main(
        [
            "synthesize",
            "--model",
            str(parity_dir / fixture),
            "--text",
            TEXT,
            "-o",
            str(output),
            *FAST,
            *option,
        ]
    )
    assert code == 2
    assert message in capsys.readouterr().err
    assert not output.exists()
