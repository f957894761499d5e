import json

import numpy as np
import pytest
import soundfile
import torch

from speechsynth.audio import MelSpectrogram, load_audio
from speechsynth.data import read_filelist, read_ljspeech
from speechsynth.errors import SpeechSynthError
from speechsynth.prepare.pitch import (
    FILELIST_NAME,
    STATS_NAME,
    SYMBOL_DIR,
    SYMBOL_FILELIST_NAME,
    VoicedStats,
    compute_pitch,
    per_symbol_pitch,
)

RATE = 22050
SHORT_CLIPS = ("LJ001-0002", "LJ001-0008", "LJ001-0013")  # 1.9, 1.8 and 2.6 s


def sine(frequency: float, seconds: float) -> np.ndarray:
    return 0.5 * np.sin(2 * np.pi * frequency * np.arange(int(RATE * seconds)) / RATE)


def uniform_durations(n_frames: int, per_symbol: int) -> torch.Tensor:
    durations = torch.full((n_frames // per_symbol,), per_symbol, dtype=torch.int64)
    durations[-1] += n_frames - int(durations.sum())
    return durations


def save_mels_and_durations(utterances, root, per_symbol=5):
    """Mels as `prepare mels` writes them, and simple uniform durations summing to them."""
    for utterance in utterances:
        audio = load_audio(utterance.audio_path, RATE)
        mel = MelSpectrogram()(torch.from_numpy(audio))
        (root / "mels").mkdir(exist_ok=True)
        (root / "durations").mkdir(exist_ok=True)
        torch.save(mel, root / "mels" / f"{utterance.utterance_id}.pt")
        durations = uniform_durations(mel.size(1), per_symbol)
        torch.save(durations, root / "durations" / f"{utterance.utterance_id}.pt")
    return root / "mels", root / "durations"


@pytest.fixture
def tones(tmp_path):
    """An LJSpeech-layout dataset of two synthetic clips: 200 Hz then silence; 120 Hz."""
    dataset = tmp_path / "tones"
    (dataset / "wavs").mkdir(parents=True)
    clips = {
        "tone200": np.concatenate([sine(200.0, 0.5), np.zeros(RATE // 2)]),
        "tone120": sine(120.0, 0.6),
    }
    for name, audio in clips.items():
        soundfile.write(dataset / "wavs" / f"{name}.wav", audio, RATE, subtype="PCM_16")
    (dataset / "metadata.csv").write_text("tone200|A tone.|A tone.\ntone120|Low.|Low.\n")
    utterances = read_ljspeech(dataset)
    mel_dir, durations_dir = save_mels_and_durations(utterances, tmp_path, per_symbol=6)
    return utterances, mel_dir, durations_dir


def load(path):
    return torch.load(path, weights_only=True)


def test_voiced_stats_merge_like_numpy():
    parts = [np.array([0.0, 100.0, 120.0]), np.array([]), np.array([0.0, 0.0]), np.arange(5.0)]
    merged = VoicedStats()
    for part in parts:
        merged = merged.merge(VoicedStats.of(part))
    voiced = np.concatenate(parts)
    voiced = voiced[voiced != 0]
    assert merged.count == voiced.size == 6
    assert merged.mean == pytest.approx(voiced.mean())
    assert merged.std == pytest.approx(voiced.std())  # population std, as NVIDIA's np.std
    assert VoicedStats().merge(VoicedStats()).to_dict() == {"mean": 0.0, "std": 0.0, "count": 0}


def test_per_symbol_pitch_averages_only_voiced_frames():
    frames = torch.tensor([[0.0, 100.0, 200.0, 0.0, 0.0, 0.0, 300.0, 0.0]])
    durations = torch.tensor([3, 3, 0, 2])
    symbols = per_symbol_pitch(frames, durations)
    assert symbols.dtype == torch.float32
    assert symbols.tolist() == [150.0, 0.0, 0.0, 300.0]


def test_pitch_files_stats_and_filelists(tones, tmp_path):
    utterances, mel_dir, durations_dir = tones
    output = tmp_path / "pitch"
    summary = compute_pitch(utterances, output, "praat", durations_dir, mel_dir, jobs=2)
    assert [r.status for r in summary.results] == ["written", "written"]

    frame_values, symbol_values = [], []
    for utterance, frequency in zip(utterances, (200.0, 120.0), strict=True):
        uid = utterance.utterance_id
        mel_frames = load(mel_dir / f"{uid}.pt").size(1)
        frames = load(output / f"{uid}.pt")
        assert frames.dtype == torch.float32 and frames.shape == (1, mel_frames)
        voiced = frames[frames > 0]
        torch.testing.assert_close(voiced, torch.full_like(voiced, frequency), rtol=0.02, atol=0)

        durations = load(durations_dir / f"{uid}.pt")
        symbols = load(output / SYMBOL_DIR / f"{uid}.pt")
        assert symbols.dtype == torch.float32 and symbols.shape == durations.shape
        starts = torch.cumsum(durations, 0) - durations
        for symbol, start, length in zip(symbols, starts, durations, strict=True):
            span = frames[0, start : start + length]
            expected = span[span > 0].mean() if bool((span > 0).any()) else torch.tensor(0.0)
            assert float(symbol) == pytest.approx(float(expected), rel=1e-5)
        frame_values.append(frames.flatten())
        symbol_values.append(symbols)

    tone200 = load(output / SYMBOL_DIR / "tone200.pt")
    assert bool((tone200[2:6] > 190).all()) and not tone200[-5:].any()  # sine, then silence
    crossing = int(torch.nonzero(tone200).max())  # the last symbol with any voiced frame
    assert float(tone200[crossing]) == pytest.approx(200.0, rel=0.02)  # zeros not averaged in

    stats = json.loads((output / STATS_NAME).read_text())
    assert stats == summary.stats
    assert (stats["method"], stats["values"], stats["clips"]) == ("praat", "symbols", 2)
    for key, values in (("symbols", symbol_values), ("frames", frame_values)):
        voiced = torch.cat(values).double()
        voiced = voiced[voiced != 0].numpy()
        assert stats[key]["count"] == voiced.size
        assert stats[key]["mean"] == pytest.approx(voiced.mean(), rel=1e-9)
        assert stats[key]["std"] == pytest.approx(voiced.std(), rel=1e-9)
    assert {k: stats[k] for k in ("mean", "std", "count")} == stats["symbols"]
    assert 120 < stats["mean"] < 200 and stats["std"] > 10

    fastpitch10 = read_filelist(output / SYMBOL_FILELIST_NAME)
    assert [
        (u.utterance_id, *(path.resolve() for path in paths), u.text)
        for u in fastpitch10
        for paths in [(u.mel_path, u.duration_path, u.pitch_path)]
    ] == [
        (
            u.utterance_id,
            (mel_dir / f"{u.utterance_id}.pt").resolve(),
            (durations_dir / f"{u.utterance_id}.pt").resolve(),
            (output / SYMBOL_DIR / f"{u.utterance_id}.pt").resolve(),
            u.text,
        )
        for u in utterances
    ]
    fastpitch11 = read_filelist(output / FILELIST_NAME)
    assert [(u.audio_path.resolve(), u.pitch_path, u.text) for u in fastpitch11] == [
        (u.audio_path.resolve(), (output / f"{u.utterance_id}.pt").resolve(), u.text)
        for u in utterances
    ]


def test_a_second_run_skips_and_follows_changed_durations(tones, tmp_path):
    utterances, mel_dir, durations_dir = tones
    output = tmp_path / "pitch"
    compute_pitch(utterances, output, "praat", durations_dir, mel_dir, jobs=1)
    stats = (output / STATS_NAME).read_text()
    written = {path: path.stat().st_mtime_ns for path in output.rglob("*.pt")}
    assert len(written) == 4

    rerun = compute_pitch(utterances, output, "praat", durations_dir, mel_dir, jobs=1)
    assert [r.status for r in rerun.results] == ["skipped", "skipped"]
    assert {path: path.stat().st_mtime_ns for path in output.rglob("*.pt")} == written
    assert (output / STATS_NAME).read_text() == stats

    durations = load(durations_dir / "tone120.pt")
    durations[0], durations[1] = durations[0] + 3, durations[1] - 3  # same sum, new split
    torch.save(durations, durations_dir / "tone120.pt")
    (output / "tone200.pt").write_bytes(b"truncated")  # a crash mid-write by another tool
    rerun = compute_pitch(utterances, output, "praat", durations_dir, mel_dir, jobs=1)
    assert [r.status for r in rerun.results] == ["written", "written"]
    assert (output / "tone120.pt").stat().st_mtime_ns == written[output / "tone120.pt"]
    symbols = load(output / SYMBOL_DIR / "tone120.pt")
    assert symbols.shape == durations.shape
    assert load(output / "tone200.pt").shape == (1, load(mel_dir / "tone200.pt").size(1))
    assert not list(output.rglob(".*.tmp*"))


def test_problems_are_reported_per_clip_or_refused(tones, tmp_path):
    utterances, mel_dir, durations_dir = tones
    output = tmp_path / "pitch"
    torch.save(torch.tensor([5, 5], dtype=torch.int64), durations_dir / "tone120.pt")
    (durations_dir / "tone200.pt").unlink()
    summary = compute_pitch(utterances, output, "praat", durations_dir, mel_dir, jobs=1)
    failed = {r.utterance_id: r.message for r in summary.results if r.status == "failed"}
    assert "no durations for this clip; run `speechsynth prepare durations`" in failed["tone200"]
    assert "durations sum to 10 frames but the clip's mel has 52" in failed["tone120"]
    assert summary.stats["clips"] == 0
    assert (output / SYMBOL_FILELIST_NAME).read_text() == "\n"

    wrong_rate = tmp_path / "tones" / "wavs" / "tone120.wav"
    soundfile.write(wrong_rate, sine(120.0, 0.6), 16000, subtype="PCM_16")
    strict = compute_pitch(utterances, tmp_path / "dense", "praat", strict=True, jobs=1)
    assert [r.status for r in strict.results] == ["written", "failed"]
    assert "sample rate is 16000 Hz, expected 22050 Hz" in strict.results[1].message
    resampled = compute_pitch(utterances, tmp_path / "dense", "praat", jobs=1)
    assert [r.status for r in resampled.results] == ["skipped", "written"]
    assert resampled.stats["values"] == "frames" and resampled.stats["clips"] == 2

    with pytest.raises(SpeechSynthError, match="holds praat pitch, this run asks for pyin"):
        compute_pitch(utterances, tmp_path / "dense", "pyin", jobs=1)
    with pytest.raises(SpeechSynthError, match="needs precomputed mels; run `speechsynth prepa"):
        compute_pitch(utterances, tmp_path / "other", "praat", durations_dir, jobs=1)
    with pytest.raises(SpeechSynthError, match="no such durations directory"):
        compute_pitch(utterances, output, "praat", tmp_path / "nowhere", mel_dir, jobs=1)
    with pytest.raises(SpeechSynthError, match="unknown pitch method 'yin'"):
        compute_pitch(utterances, output, "yin", jobs=1)


def test_praat_and_pyin_agree_per_symbol_on_real_speech(ljspeech_mini, tmp_path):
    """The issue's criterion. Measured on these clips: median relative difference 1.0 %, 99 %
    of the symbols both call voiced within 10 %, 12 % voiced by only one. A pitch off by a
    semitone (median 6 %), unvoiced frames averaged in (70 % within 10 %) or frames misaligned
    by 5 (median 6 %, 69 % within 10 %) all fail."""
    utterances = [u for u in read_ljspeech(ljspeech_mini) if u.utterance_id in SHORT_CLIPS]
    mel_dir, durations_dir = save_mels_and_durations(utterances, tmp_path, per_symbol=5)
    per_symbol = {}
    for method in ("praat", "pyin"):
        output = tmp_path / method
        summary = compute_pitch(utterances, output, method, durations_dir, mel_dir, jobs=2)
        assert [r.status for r in summary.results] == ["written"] * 3
        per_symbol[method] = torch.cat(
            [load(output / SYMBOL_DIR / f"{u.utterance_id}.pt") for u in utterances]
        )
        assert 180 < summary.stats["mean"] < 260  # LJSpeech's speaker: about 215 Hz
    praat, pyin = per_symbol["praat"], per_symbol["pyin"]
    both = (praat > 0) & (pyin > 0)
    assert int(both.sum()) > 0.75 * praat.numel()
    assert float(((praat > 0) != (pyin > 0)).float().mean()) < 0.2
    relative = ((praat[both] - pyin[both]).abs() / pyin[both]).numpy()
    assert np.median(relative) < 0.03
    assert (relative < 0.1).mean() > 0.9
