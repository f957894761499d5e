"""Synthesizer tests on NVIDIA's reduced-size random-weight Tacotron 2 (its gate never fires at
the default threshold, so every utterance runs to max_decoder_steps unless a test lowers it)."""

import dataclasses
import logging

import numpy as np
import pytest
import torch

from speechsynth.errors import SpeechSynthError
from speechsynth.infer import Controls, GriffinLimVocoder, Synthesizer
from speechsynth.infer.runtimes import RuntimeOptions
from speechsynth.infer.torch_backends import TorchTacotron2
from speechsynth.models.registry import load_model

STEPS = 30
HOP = 256
GAP_FRAMES = 13  # 0.15 s at 22050 Hz, in whole 256-sample frames
# Texts of equal encoded length (28 symbols): a batch of them needs no padding.
SAME_LENGTH_TEXTS = [
    "Hello world, this is a test.",
    "Quiet fields, warm red dusk.",
    "Bright stars shine at night.",
]


@pytest.fixture(scope="module")
def tacotron2(parity_dir):
    return load_model(parity_dir / "tacotron2.pt")


@pytest.fixture(scope="module")
def tacotron2_no_dropout(parity_dir):
    loaded = load_model(parity_dir / "tacotron2.pt")
    config = dataclasses.replace(loaded.config, prenet_dropout_at_inference=False)
    loaded.config = loaded.model.config = config
    return loaded


@pytest.fixture(scope="module")
def vocoder():
    return GriffinLimVocoder(n_iter=2)


def _synthesizer(loaded, vocoder, gate_threshold=None, **options) -> Synthesizer:
    # fp32, not the CPU default int8: int8 quantizes activations with one scale per batch, so a
    # batch-mate changes an utterance's mel (within the int8 error), and batching is tested here.
    controls = Controls(max_decoder_steps=STEPS, gate_threshold=gate_threshold)
    acoustic = TorchTacotron2(loaded, RuntimeOptions(precision="fp32"))
    return Synthesizer(acoustic, vocoder, controls=controls, **options)


def test_results_in_input_order_with_audio_of_256_samples_per_frame(tacotron2, vocoder):
    utterances = [
        ("b", "Short one."),
        ("a", "A rather longer sentence, with commas."),
        ("c", "Hi."),
    ]
    results = _synthesizer(tacotron2, vocoder, batch_size=2, seed=0).synthesize(utterances)
    assert [(result.name, result.text) for result in results] == utterances
    for result in results:
        assert result.n_frames == STEPS
        assert result.mel.shape == (80, STEPS)
        assert result.audio.dtype == np.float32
        assert len(result.audio) == HOP * result.n_frames
        assert result.seconds == pytest.approx(len(result.audio) / 22050)
        assert result.hit_max_decoder_steps
        assert result.synthesis_seconds > 0
        assert result.n_chunks == 1


def test_hitting_max_decoder_steps_warns_naming_the_utterance(tacotron2, vocoder, caplog):
    text = "Printing, in the only sense with which we are at present concerned."
    with caplog.at_level(logging.WARNING, logger="speechsynth.infer.synthesizer"):
        _synthesizer(tacotron2, vocoder, seed=0).synthesize([("LJ001-0001", text)])
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 1
    assert "LJ001-0001" in messages[0]
    assert "Printing, in the only sense with ..." in messages[0]
    assert f"max_decoder_steps={STEPS}" in messages[0]


def test_batched_equals_one_at_a_time_without_prenet_dropout(tacotron2_no_dropout, vocoder):
    # Equal-length inputs: padding changes the encoder output (its convolutions read the pad
    # embeddings, as NVIDIA's do), by up to ~0.5 in log-mel with these random weights, so only
    # unpadded batches can match single utterances to float rounding. The lowered gate threshold
    # makes utterances stop at different steps, so trimming inside a batch is checked too.
    utterances = [(f"u{i}", text) for i, text in enumerate(SAME_LENGTH_TEXTS)]
    options = {"gate_threshold": 0.3047, "seed": 3}
    batched = _synthesizer(tacotron2_no_dropout, vocoder, batch_size=3, **options)
    single = _synthesizer(tacotron2_no_dropout, vocoder, batch_size=1, **options)
    batched_results = batched.synthesize(utterances)
    single_results = single.synthesize(utterances)
    frames = [result.n_frames for result in batched_results]
    assert frames == [result.n_frames for result in single_results]
    assert len(set(frames)) > 1 and min(frames) < STEPS
    for in_batch, alone in zip(batched_results, single_results, strict=True):
        assert in_batch.hit_max_decoder_steps == (in_batch.n_frames == STEPS)
        assert len(in_batch.audio) == HOP * in_batch.n_frames
        torch.testing.assert_close(in_batch.mel, alone.mel, atol=1e-4, rtol=0)


def test_gate_threshold_override_leaves_the_model_config_alone(tacotron2_no_dropout, vocoder):
    _synthesizer(tacotron2_no_dropout, vocoder, gate_threshold=0.3).synthesize([("a", "Hi.")])
    assert tacotron2_no_dropout.model.config.gate_threshold == 0.5


def test_same_seed_same_audio_with_prenet_dropout(tacotron2, vocoder):
    utterances = [("a", "Hello world."), ("b", "Another sentence here.")]

    def mels(seed: int) -> list[np.ndarray]:
        synthesizer = _synthesizer(tacotron2, vocoder, batch_size=2, seed=seed)
        return [result.mel for result in synthesizer.synthesize(utterances)]

    first, again, other = mels(5), mels(5), mels(6)
    for mel, mel_again, mel_other in zip(first, again, other, strict=True):
        torch.testing.assert_close(mel, mel_again, atol=0, rtol=0)
        assert not np.array_equal(mel, mel_other)


def test_long_text_is_split_into_chunks_joined_by_silence(tacotron2, vocoder):
    text = "The first sentence is here. The second one follows it. And a third one ends it."
    synthesizer = _synthesizer(tacotron2, vocoder, max_chars_per_chunk=30, seed=0)
    [result] = synthesizer.synthesize([("story", text)])
    assert result.n_chunks == 3
    assert result.n_frames == 3 * STEPS + 2 * GAP_FRAMES
    assert len(result.audio) == HOP * result.n_frames
    gap = result.audio[HOP * STEPS : HOP * (STEPS + GAP_FRAMES)]
    assert not gap.any()
    assert result.audio[: HOP * STEPS].any()


def test_text_that_fits_is_one_chunk(tacotron2, vocoder):
    text = "The first sentence is here. The second one follows it."
    [result] = _synthesizer(tacotron2, vocoder, seed=0).synthesize([("a", text)])
    assert result.n_chunks == 1


def test_empty_text_names_the_utterance(tacotron2, vocoder):
    with pytest.raises(SpeechSynthError, match="utterance 'blank': no text"):
        _synthesizer(tacotron2, vocoder).synthesize([("ok", "Hi."), ("blank", "  ")])


def test_unspeakable_text_names_the_utterance(tacotron2, vocoder):
    with pytest.raises(SpeechSynthError, match="utterance 'odd'"):
        _synthesizer(tacotron2, vocoder).synthesize([("odd", "###")])


def test_batch_size_must_be_positive(tacotron2, vocoder):
    with pytest.raises(SpeechSynthError, match="batch_size must be at least 1"):
        Synthesizer(TorchTacotron2(tacotron2), vocoder, batch_size=0)


def test_controls_the_model_lacks_are_an_error_naming_its_controls(tacotron2, vocoder):
    with pytest.raises(SpeechSynthError, match=r"tacotron2 model has no pace / alpha control"):
        Synthesizer(TorchTacotron2(tacotron2), vocoder, controls=Controls(pace=1.2, alpha=0.9))
