"""The stage clock behind `bench inference`'s breakdown."""

from __future__ import annotations

import time

from speechsynth.infer.stage_clock import StageClock, timed_stage


def test_stages_add_up_and_nest_while_the_clock_runs():
    clock = StageClock()
    with clock.running():
        for _ in range(2):
            with timed_stage("vocoder"):
                time.sleep(0.01)
                with timed_stage("denoiser"):
                    time.sleep(0.01)
    assert set(clock.seconds) == {"vocoder", "denoiser"}
    assert 0.02 <= clock.seconds["denoiser"] < clock.seconds["vocoder"]
    assert clock.seconds["vocoder"] >= 0.04


def test_nothing_is_recorded_without_a_running_clock():
    clock = StageClock()
    with timed_stage("generator"):
        pass
    with clock.running():
        pass
    with timed_stage("generator"):
        pass
    assert clock.seconds == {}


def test_the_synthesizer_marks_its_stages():
    from speechsynth.infer.synthesizer import Synthesizer
    from speechsynth.infer.voice import load_voice

    voice = load_voice()
    clock = StageClock()
    with clock.running():
        Synthesizer(voice.model, voice.vocoder).synthesize([("one", "Hi.")])
    assert set(clock.seconds) == {"text", "generator", "vocoder"}
