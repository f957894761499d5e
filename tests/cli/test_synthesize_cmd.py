import json
import logging

import numpy
import pytest
import soundfile

from speechsynth.cli import main

STEPS = 20
FAST = ["--max-decoder-steps", str(STEPS), "--griffin-lim-iters", "2", "--device", "cpu"]


@pytest.fixture(scope="module")
def checkpoint(parity_dir):
    return str(parity_dir / "tacotron2.pt")


def _synthesize(checkpoint, *arguments) -> int:
    return main(["synthesize", "--model", checkpoint, *FAST, *arguments])


def test_phrase_file_gives_named_wavs_and_a_summary(checkpoint, tmp_path, capsys, caplog):
    phrases = tmp_path / "phrases.txt"
    phrases.write_text("greeting|Hello world.\nfarewell|Goodbye, and thanks.\n", encoding="utf-8")
    output_dir = tmp_path / "out"
    with caplog.at_level(logging.WARNING):
        assert (
            _synthesize(checkpoint, "-i", str(phrases), "-o", str(output_dir), "--seed", "1") == 0
        )

    assert sorted(path.name for path in output_dir.iterdir()) == [
        "farewell.wav",
        "greeting.wav",
        "summary.json",
    ]
    summary = json.loads((output_dir / "summary.json").read_text(encoding="utf-8"))
    assert summary["model"] == checkpoint
    assert summary["vocoder"] == "griffin-lim"
    assert (summary["sampling_rate"], summary["seed"]) == (22050, 1)
    assert (summary["max_decoder_steps"], summary["gate_threshold"]) == (STEPS, 0.5)
    entries = summary["utterances"]
    assert [entry["name"] for entry in entries] == ["greeting", "farewell"]
    assert entries[0]["text"] == "Hello world."
    for entry in entries:
        audio, rate = soundfile.read(output_dir / entry["wav"])
        assert rate == 22050
        assert entry["frames"] == STEPS
        assert len(audio) == 256 * entry["frames"]
        assert entry["seconds"] == pytest.approx(len(audio) / 22050, abs=1e-4)
        assert entry["hit_max_decoder_steps"] is True
        assert entry["synthesis_seconds"] >= 0
    totals = summary["totals"]
    assert totals["utterances"] == 2
    assert totals["hit_max_decoder_steps"] == 2
    assert totals["audio_seconds"] == pytest.approx(2 * 256 * STEPS / 22050, abs=1e-3)
    rtf = totals["synthesis_seconds"] / totals["audio_seconds"]
    assert totals["real_time_factor"] == pytest.approx(rtf, abs=1e-3)

    out = capsys.readouterr().out
    assert "greeting" in out and "hit max decoder steps" in out
    assert "2 utterance(s)" in out and "real-time factor" in out
    warned = " ".join(record.getMessage() for record in caplog.records)
    assert 'greeting ("Hello world.")' in warned and "farewell" in warned


def test_text_with_json_output_and_chunking(checkpoint, tmp_path, capsys):
    text = "The first sentence is here. The second one follows it."
    output_dir = tmp_path / "out"
    arguments = ["--text", text, "-o", str(output_dir), "--json", "--max-chunk-chars", "30"]
    assert _synthesize(checkpoint, *arguments) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads((output_dir / "summary.json").read_text(encoding="utf-8"))
    [entry] = printed["utterances"]
    assert entry["name"] == "0001" and entry["wav"] == "0001.wav"
    assert entry["frames"] == 2 * STEPS + 13  # two chunks and 0.15 s of silence between them
    audio, _ = soundfile.read(output_dir / "0001.wav")
    assert len(audio) == 256 * entry["frames"]


def test_help_has_examples(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["synthesize", "--help"])
    assert exit_info.value.code == 0
    help_text = capsys.readouterr().out
    assert "examples:" in help_text and "--max-decoder-steps" in help_text


def _error_line(capsys) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    return lines[0]


def test_missing_model(tmp_path, capsys):
    missing = str(tmp_path / "nope.pt")
    assert _synthesize(missing, "--text", "Hi.", "-o", str(tmp_path / "out")) == 2
    assert (
        _error_line(capsys)
        == f"speechsynth: error: {missing}: checkpoint not found; check the path"
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\n  \n", "no text to synthesise"),
        (b"caf\xe9 au lait\n", "not valid UTF-8"),
    ],
)
def test_bad_phrase_file(checkpoint, tmp_path, capsys, content, message):
    phrases = tmp_path / "phrases.txt"
    phrases.write_bytes(content)
    assert _synthesize(checkpoint, "-i", str(phrases), "-o", str(tmp_path / "out")) == 2
    assert message in _error_line(capsys)
    assert not (tmp_path / "out").exists()


def test_unknown_vocoder(checkpoint, tmp_path, capsys):
    arguments = ["--text", "Hi.", "-o", str(tmp_path / "out"), "--vocoder", "hifi"]
    assert _synthesize(checkpoint, *arguments) == 2
    assert "unknown vocoder 'hifi'" in _error_line(capsys)


def test_batch_size_must_be_positive(checkpoint, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        _synthesize(checkpoint, "--text", "Hi.", "-o", str(tmp_path), "--batch-size", "0")
    assert exit_info.value.code == 2
    assert "--batch-size: must be at least 1" in capsys.readouterr().err


@pytest.mark.parametrize("precision", ["int8", "bf16"])
def test_faster_precisions_write_the_same_length_of_audio(checkpoint, tmp_path, precision):
    runs = {}
    for chosen in ("fp32", precision):
        output_dir = tmp_path / chosen
        arguments = ["--text", "Hello world.", "-o", str(output_dir), "--precision", chosen]
        assert _synthesize(checkpoint, *arguments, "--seed", "3") == 0
        runs[chosen] = json.loads((output_dir / "summary.json").read_text(encoding="utf-8"))
    assert runs[precision]["precision"] == precision
    assert runs[precision]["utterances"][0]["frames"] == runs["fp32"]["utterances"][0]["frames"]


def test_waveglow_checkpoint_as_the_vocoder(checkpoint, parity_dir, tmp_path):
    output_dir = tmp_path / "out"
    vocoder = [
        "--vocoder",
        str(parity_dir / "waveglow.pt"),
        "--sigma",
        "0",
        "--denoiser-strength",
        "0",
    ]
    assert _synthesize(checkpoint, "--text", "Hello.", "-o", str(output_dir), *vocoder) == 0
    summary = json.loads((output_dir / "summary.json").read_text(encoding="utf-8"))
    assert summary["vocoder"] == str(parity_dir / "waveglow.pt")
    audio, rate = soundfile.read(output_dir / "0001.wav")
    assert rate == 22050
    assert len(audio) == 256 * summary["utterances"][0]["frames"]
    assert abs(audio).max() > 0  # a real waveform, not silence


def test_save_mels_writes_each_utterances_mel_beside_its_wav(checkpoint, tmp_path):
    output_dir = tmp_path / "out"
    assert _synthesize(checkpoint, "--text", "Hello.", "-o", str(output_dir), "--save-mels") == 0
    summary = json.loads((output_dir / "summary.json").read_text(encoding="utf-8"))
    entry = summary["utterances"][0]
    mel = numpy.load(output_dir / entry["mel"])
    assert (entry["mel"], mel.dtype, mel.shape) == ("0001.npy", numpy.float32, (80, STEPS))
    assert numpy.isfinite(mel).all() and mel.std() > 0
    assert sorted(path.name for path in output_dir.iterdir()) == [
        "0001.npy",
        "0001.wav",
        "summary.json",
    ]


def test_an_io_error_is_one_line_naming_the_file(tmp_path, capsys):
    from speechsynth.infer.voice import bundled_voice_path

    (tmp_path / "a_file").write_text("not a folder")
    output = tmp_path / "a_file" / "out"
    argv = ["synthesize", "--model", str(bundled_voice_path()), "--text", "Hi.", "-o", str(output)]
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "a_file" in error
