import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile


def copy_clips(source: Path, destination: Path, n_clips: int) -> Path:
    """A small LJSpeech-layout copy of the first `n_clips` clips of `source`."""
    (destination / "wavs").mkdir(parents=True)
    lines = (source / "metadata.csv").read_text(encoding="utf-8").splitlines()[:n_clips]
    for line in lines:
        clip_id = line.split("|")[0]
        shutil.copy(source / "wavs" / f"{clip_id}.wav", destination / "wavs" / f"{clip_id}.wav")
    (destination / "metadata.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return destination


@pytest.fixture
def mini_copy(ljspeech_mini, tmp_path) -> Path:
    return copy_clips(ljspeech_mini, tmp_path / "mini", 6)


@pytest.fixture
def broken_copy(mini_copy) -> Path:
    """Clip 2 deleted, clip 3 re-written as 44.1 kHz stereo, clip 4's transcript emptied."""
    (mini_copy / "wavs" / "LJ001-0002.wav").unlink()
    audio, rate = soundfile.read(mini_copy / "wavs" / "LJ001-0003.wav")
    stereo = np.stack([np.repeat(audio, 2), np.repeat(audio, 2)], axis=1)
    soundfile.write(mini_copy / "wavs" / "LJ001-0003.wav", stereo, 2 * rate, subtype="PCM_16")
    lines = (mini_copy / "metadata.csv").read_text().splitlines()
    lines[3] = "LJ001-0004||"
    (mini_copy / "metadata.csv").write_text("\n".join(lines) + "\n")
    return mini_copy
