"""`speechsynth say` and `speechsynth voice pack`."""

import io
import json

import numpy as np
import pytest
import soundfile
import torch

from speechsynth.cli import main
from speechsynth.infer.voice import bundled_voice_path, load_voice
from speechsynth.models.checkpoint import write_checkpoint
from speechsynth.models.fastpitch import FastPitch, FastPitchConfig

SENTENCE = "The quick brown fox jumps over the lazy dog."
TINY = FastPitchConfig(
    symbols_embedding_dim=32,
    in_fft_n_layers=1,
    in_fft_d_head=16,
    in_fft_conv1d_filter_size=32,
    in_fft_output_size=32,
    out_fft_n_layers=1,
    out_fft_d_head=16,
    out_fft_conv1d_filter_size=32,
    out_fft_output_size=32,
    dur_predictor_filter_size=16,
    pitch_predictor_filter_size=16,
)


@pytest.fixture(scope="module")
def tiny_voice(tmp_path_factory):
    """A random tiny FastPitch as a training checkpoint, packed as a voice."""
    directory = tmp_path_factory.mktemp("voice")
    torch.manual_seed(0)
    model = FastPitch(TINY)
    with torch.no_grad():  # about 3 frames per symbol, whatever the input
        model.duration_predictor.fc.weight.zero_()
        model.duration_predictor.fc.bias.fill_(float(np.log(4.0)))
    ema = {name: tensor.clone() for name, tensor in model.state_dict().items()}
    ema["proj.bias"].fill_(0.75)
    write_checkpoint(
        directory / "run.pt",
        {
            "model_name": "fastpitch",
            "model_config": TINY.to_dict(),
            "state_dict": model.state_dict(),
            "ema_state_dict": ema,
            "optimizer": {"state": {}, "param_groups": []},
            "experiment": {"data": {"cleaners": ["english_cleaners"], "p_arpabet": 1.0}},
            "step": 7,
        },
    )
    voice = directory / "voice.pt"
    assert (
        main(
            [
                "voice",
                "pack",
                str(directory / "run.pt"),
                "-o",
                str(voice),
                "--griffin-lim-iters",
                "4",
            ]
        )
        == 0
    )
    return voice


def test_pack_keeps_the_moving_average_in_fp16(tiny_voice):
    content = torch.load(tiny_voice, weights_only=True)
    assert "optimizer" not in content and content["step"] == 7
    assert content["state_dict"]["proj.weight"].dtype == torch.float16
    assert content["voice"] == {"vocoder": "griffin-lim", "griffin_lim_iters": 4}
    voice = load_voice(tiny_voice)
    assert voice.model.name == "fastpitch" and voice.model.text_setup.p_arpabet == 1.0
    assert voice.settings["griffin_lim_iters"] == 4
    assert voice.model.model.proj.weight.dtype == torch.float32
    assert torch.equal(voice.model.model.proj.bias, torch.full((80,), 0.75))  # the average


def test_say_writes_one_wav_and_reads_stdin(tiny_voice, tmp_path, capsys, monkeypatch):
    output = tmp_path / "hello.wav"
    assert main(["say", SENTENCE, "-o", str(output), "--voice", str(tiny_voice), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    audio, rate = soundfile.read(output)
    assert rate == 22050 and summary["seconds"] == pytest.approx(len(audio) / rate, abs=1e-3)
    long_text = " ".join([SENTENCE] * 8)  # 359 characters: split into sentence chunks
    monkeypatch.setattr("sys.stdin", io.StringIO(long_text))
    piped = tmp_path / "piped.wav"
    assert main(["say", "-o", str(piped), "--voice", str(tiny_voice), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["sentences"] > 1


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["say", "   ", "-o", "x.wav"], "the text is empty"),
        (["say", "Hi.", "-o", "x.mp3"], "must be a .wav file"),
        (["say", "Hi.", "-o", "x.wav", "--voice", "missing.pt"], "voice not found"),
    ],
)
def test_say_errors_are_one_line(arguments, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(arguments) == 2
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1
    assert not (tmp_path / "x.wav").exists()


def test_the_bundled_voice_speaks_a_sentence(tmp_path, capsys):
    if not bundled_voice_path().is_dir():
        pytest.fail(f"{bundled_voice_path()} is missing: the package must ship its demo voice")
    output = tmp_path / "demo.wav"
    assert main(["say", SENTENCE, "-o", str(output), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    audio, rate = soundfile.read(output)
    seconds = len(audio) / rate
    assert 0.045 * len(SENTENCE) < seconds < 0.15 * len(SENTENCE)  # 2 to 6.6 s: speech-like pace
    assert np.sqrt(np.mean(audio**2)) > 0.01  # not silent
    assert summary["real_time_factor"] < 1.0  # faster than real time


def test_a_vocoder_given_as_the_voice_says_to_pass_it_as_the_vocoder(parity_dir, tmp_path, capsys):
    waveglow = str(parity_dir / "waveglow.pt")
    assert main(["say", "--voice", waveglow, "Hello.", "-o", str(tmp_path / "x.wav")]) == 2
    err = capsys.readouterr().err
    assert "is a vocoder (mel -> audio), not a text model; pass it with --vocoder" in err
    assert not (tmp_path / "x.wav").exists()


@pytest.mark.parametrize("where", ["a_folder.wav", "a_file/x.wav"])
def test_an_output_that_cannot_be_written_is_one_line(where, tmp_path, capsys):
    (tmp_path / "a_folder.wav").mkdir()
    (tmp_path / "a_file").write_text("not a folder")
    assert main(["say", "Hi.", "-o", str(tmp_path / where)]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and str(tmp_path / where) in error
