"""The training tasks, by model name."""

from __future__ import annotations

from speechsynth.errors import SpeechSynthError
from speechsynth.train.fastpitch import FastPitchTask
from speechsynth.train.fastspeech import FastSpeechTask
from speechsynth.train.tacotron2 import Tacotron2Task
from speechsynth.train.task import TrainingTask
from speechsynth.train.waveglow import WaveGlowTask

TASKS: dict[str, type] = {
    "tacotron2": Tacotron2Task,
    "waveglow": WaveGlowTask,
    "fastpitch": FastPitchTask,
    "fastspeech": FastSpeechTask,
}


def get_task(model_name: str) -> TrainingTask:
    if model_name not in TASKS:
        raise SpeechSynthError(
            f"no trainer for model {model_name!r}; trainable models: {', '.join(TASKS)}"
        )
    return TASKS[model_name]()
