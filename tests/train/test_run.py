"""Resolving a training run's config from the request `speechsynth train` builds."""

import pytest

from speechsynth.errors import SpeechSynthError
from speechsynth.train.run import TrainRequest, option_assignments, resolve_run


def test_the_aligner_option_sets_fastpitch_config_values():
    teacher = TrainRequest("fastpitch", model_options=(("aligner", "teacher"),))
    config = resolve_run(teacher).config
    assert config.model.learned_aligner is False and config.data.p_arpabet == 0
    learned = TrainRequest("fastpitch", model_options=(("aligner", "learned"),))
    assert resolve_run(learned).config.model.learned_aligner is True


def test_a_model_option_for_another_model_is_a_one_line_error():
    with pytest.raises(SpeechSynthError, match="--aligner is a fastpitch option; tacotron2 has"):
        option_assignments("tacotron2", "aligner", "teacher")


def test_resume_last_needs_the_run_directory():
    with pytest.raises(SpeechSynthError, match="--resume without a checkpoint needs --output"):
        resolve_run(TrainRequest("tacotron2", resume="last"))
