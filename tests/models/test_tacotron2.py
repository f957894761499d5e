"""Tacotron 2 against NVIDIA's reference outputs (../shared/parity/tacotron2.pt, reduced widths)."""

from __future__ import annotations

import math

import pytest
import torch

from speechsynth.errors import SpeechSynthError
from speechsynth.models.checkpoint import load_state_dict_strict
from speechsynth.models.tacotron2 import Tacotron2, Tacotron2Config

TOLERANCE = 1e-4
PARITY_OUTPUTS = ("mel_outputs", "mel_outputs_postnet", "gate_outputs", "alignments")


@pytest.fixture(scope="module")
def reference(load_parity) -> dict:
    return load_parity("tacotron2")


def make_model(reference: dict, **overrides) -> Tacotron2:
    """The reference weights in eval mode; prenet dropout off unless an override turns it on."""
    config = {**reference["config"], "prenet_dropout_at_inference": False, **overrides}
    model = Tacotron2(Tacotron2Config(**config)).eval()
    load_state_dict_strict(model, reference["state_dict"], "tacotron2.pt")
    return model


def max_diff(actual: torch.Tensor, expected: torch.Tensor) -> float:
    assert actual.shape == expected.shape
    return (actual - expected).abs().max().item()


def assert_outputs_match(outputs, expected: dict) -> None:
    for name in PARITY_OUTPUTS:
        assert max_diff(getattr(outputs, name), expected[name]) < TOLERANCE, name


def single_text(reference: dict) -> tuple[torch.Tensor, torch.Tensor]:
    return reference["inputs"]["text_ids"], reference["inputs"]["input_lengths"]


def batch_text(reference: dict) -> tuple[torch.Tensor, torch.Tensor]:
    """Two utterances, lengths [128, 67], the second right-padded with id 0."""
    teacher_forced = reference["outputs"]["teacher_forced_nodropout"]
    return teacher_forced["text_ids"], teacher_forced["input_lengths"]


# ----------------------------------------------------------------------------- config and weights


def test_state_dict_has_nvidias_keys_and_shapes(reference):
    model = Tacotron2(Tacotron2Config(**reference["config"]))
    ours = {key: tuple(value.shape) for key, value in model.state_dict().items()}
    theirs = {key: tuple(value.shape) for key, value in reference["state_dict"].items()}
    assert list(ours) == list(theirs)
    assert ours == theirs
    load_state_dict_strict(model, reference["state_dict"], "tacotron2.pt")


def test_default_config_is_nvidias(reference):
    assert Tacotron2Config().nvidia_kwargs() == reference["default_config"]


def test_config_from_dict_names_unknown_keys(reference):
    config = Tacotron2Config.from_dict(reference["config"])
    assert config.nvidia_kwargs() == reference["config"]
    with pytest.raises(SpeechSynthError, match="attention_heads, fp16_run"):
        Tacotron2Config.from_dict({**reference["config"], "fp16_run": True, "attention_heads": 2})


def test_config_rejects_several_frames_per_step():
    with pytest.raises(SpeechSynthError, match="n_frames_per_step"):
        Tacotron2Config(n_frames_per_step=2)


# ----------------------------------------------------------------------------- parity


def test_encoder_matches_nvidia(reference):
    model = make_model(reference)
    text, lengths = single_text(reference)
    expected = reference["outputs"]
    with torch.no_grad():
        embedded = model.embedding(text).transpose(1, 2)
        memory, processed_memory = model.encode(text, lengths)
    assert max_diff(embedded, expected["embedded_inputs"]) < TOLERANCE
    assert max_diff(memory, expected["encoder_outputs"]) < TOLERANCE
    assert max_diff(processed_memory, expected["processed_memory"]) < TOLERANCE


def test_inference_without_prenet_dropout_matches_nvidia(reference):
    model = make_model(reference)
    expected = reference["outputs"]["nodropout"]
    with torch.no_grad():
        result = model.infer(
            *single_text(reference), max_decoder_steps=reference["n_decoder_steps"]
        )
    assert_outputs_match(result, expected)
    assert torch.equal(result.mel_lengths, expected["mel_lengths"])
    assert result.mel_lengths.dtype == torch.int32
    # The reference's gate never fires, so the step limit ends the utterance.
    assert result.reached_max_decoder_steps.tolist() == [True]


def test_inference_replaying_nvidias_prenet_masks_matches_nvidia(reference):
    expected = reference["outputs"]["dropout_seed1234"]
    keep_masks = expected["prenet_keep_masks"]  # [steps, layers, B, prenet_dim]
    model = make_model(reference)  # the mask provider applies even with dropout switched off

    def replay(step: int, layer: int, shape: torch.Size) -> torch.Tensor:
        assert keep_masks[step, layer].shape == shape
        return keep_masks[step, layer]

    with torch.no_grad():
        result = model.infer(
            *single_text(reference), max_decoder_steps=len(keep_masks), prenet_masks=replay
        )
    assert_outputs_match(result, expected)


def test_global_seed_draws_nvidias_prenet_masks(reference):
    """Our Bernoulli draws are F.dropout's, so NVIDIA's seed gives NVIDIA's masks (same torch)."""
    expected = reference["outputs"]["dropout_seed1234"]
    model = make_model(reference, prenet_dropout_at_inference=True)
    torch.manual_seed(1234)
    with torch.no_grad():
        result = model.infer(
            *single_text(reference), max_decoder_steps=reference["n_decoder_steps"]
        )
    assert_outputs_match(result, expected)


def test_teacher_forced_forward_matches_nvidia(reference):
    expected = reference["outputs"]["teacher_forced_nodropout"]
    model = make_model(reference)
    with torch.no_grad():
        outputs = model(
            expected["text_ids"],
            expected["input_lengths"],
            expected["mel_target"],
            expected["output_lengths"],
        )
    assert_outputs_match(outputs, expected)


# ----------------------------------------------------------------------------- prenet dropout


def test_generator_makes_prenet_dropout_reproducible(reference):
    model = make_model(reference, prenet_dropout_at_inference=True)
    text, lengths = single_text(reference)

    def run(seed: int) -> torch.Tensor:
        generator = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            return model.infer(text, lengths, max_decoder_steps=5, generator=generator).mel_outputs

    assert torch.equal(run(7), run(7))
    assert not torch.equal(run(7), run(8))


def test_prenet_dropout_follows_the_inference_flag(reference):
    switched_off = make_model(reference, prenet_dropout_at_inference=False)
    assert switched_off.prenet_dropout() is None
    assert switched_off.train().prenet_dropout() is not None  # training always drops
    assert make_model(reference, prenet_dropout_at_inference=True).prenet_dropout() is not None


# ----------------------------------------------------------------------------- masks and batches


def test_padded_text_positions_get_no_attention(reference):
    model = make_model(reference)
    text, lengths = batch_text(reference)
    mels = reference["outputs"]["teacher_forced_nodropout"]["mel_target"]
    with torch.no_grad():
        teacher_forced = model(text, lengths, mels).alignments
        inferred = model.infer(text, lengths, max_decoder_steps=10).alignments
    for alignments in (teacher_forced, inferred):
        assert torch.all(alignments[1, :, lengths[1] :] == 0.0)
        torch.testing.assert_close(alignments.sum(dim=2), torch.ones(alignments.shape[:2]))


def test_mask_padding_zeroes_padded_frames_and_stops_the_gate(reference):
    text, lengths = batch_text(reference)
    mels = reference["outputs"]["teacher_forced_nodropout"]["mel_target"]
    mel_lengths = torch.tensor([40, 31])
    with torch.no_grad():
        plain = make_model(reference)(text, lengths, mels, mel_lengths)
        masked = make_model(reference, mask_padding=True)(text, lengths, mels, mel_lengths)
    for name in ("mel_outputs", "mel_outputs_postnet"):
        assert torch.all(getattr(masked, name)[1, :, 31:] == 0.0)
        assert torch.equal(getattr(masked, name)[1, :, :31], getattr(plain, name)[1, :, :31])
        assert torch.equal(getattr(masked, name)[0], getattr(plain, name)[0])
    assert torch.all(masked.gate_outputs[1, 31:] == 1e3)
    assert torch.equal(masked.gate_outputs[1, :31], plain.gate_outputs[1, :31])
    assert torch.equal(masked.alignments, plain.alignments)


def test_teacher_forcing_works_for_one_utterance(reference):
    expected = reference["outputs"]["teacher_forced_nodropout"]
    model = make_model(reference)
    with torch.no_grad():
        outputs = model(
            expected["text_ids"][:1], expected["input_lengths"][:1], expected["mel_target"][:1]
        )
    assert max_diff(outputs.mel_outputs_postnet, expected["mel_outputs_postnet"][:1]) < TOLERANCE
    assert outputs.gate_outputs.shape == (1, 40)


def gate_threshold_stopping_second_utterance(gate_logits: torch.Tensor) -> tuple[float, int]:
    """A threshold (probability) that utterance 1 crosses at some step k and utterance 0 never
    reaches, with a margin far above float noise -> (threshold, k)."""
    never_reached = gate_logits[0].max().item()
    for step in range(10, gate_logits.size(1)):
        below = max(never_reached, gate_logits[1, :step].max().item())
        crossing = gate_logits[1, step].item()
        if crossing - below > 2e-4:
            return 1.0 / (1.0 + math.exp(-(below + crossing) / 2)), step
    pytest.fail("no gate threshold separates the two reference utterances")


def test_batch_inference_equals_each_utterance_alone(reference):
    """Each batch row equals the same (padded) row decoded alone, also once one has stopped.

    Rows are compared as padded in the batch: NVIDIA's encoder convolutions read the padding
    symbols' embeddings, so an unpadded utterance has slightly different last encoder outputs.
    """
    text, lengths = batch_text(reference)
    steps = 60
    with torch.no_grad():
        probe = make_model(reference).infer(text, lengths, max_decoder_steps=steps)
    threshold, stop_step = gate_threshold_stopping_second_utterance(probe.gate_outputs)
    model = make_model(reference, gate_threshold=threshold)
    with torch.no_grad():
        batch = model.infer(text, lengths, max_decoder_steps=steps)
        alone = [
            model.infer(text[i : i + 1], lengths[i : i + 1], max_decoder_steps=steps)
            for i in (0, 1)
        ]

    assert batch.mel_lengths.tolist() == [steps, stop_step]
    assert batch.reached_max_decoder_steps.tolist() == [True, False]
    assert alone[1].mel_outputs_postnet.size(2) == stop_step + 1  # the stop frame is kept
    for index, single in enumerate(alone):
        n_frames = single.mel_outputs_postnet.size(2)
        assert single.mel_lengths.item() == batch.mel_lengths[index].item()
        for name in ("mel_outputs", "mel_outputs_postnet", "alignments"):
            batch_row = getattr(batch, name)[index : index + 1]
            frames = batch_row[:, :, :n_frames] if name != "alignments" else batch_row[:, :n_frames]
            assert max_diff(frames, getattr(single, name)) < TOLERANCE, (index, name)
    assert torch.all(batch.mel_outputs_postnet[1, :, stop_step + 1 :] == 0.0)


def test_infer_stops_at_the_gate_or_reports_the_step_limit(reference):
    text, lengths = single_text(reference)
    always_stop = make_model(reference)
    with torch.no_grad():
        always_stop.decoder.gate_layer.linear_layer.bias.fill_(10.0)
        stopped = always_stop.infer(text, lengths, max_decoder_steps=50)
        never_stop = make_model(reference).infer(text, lengths, max_decoder_steps=7)
    assert stopped.mel_outputs_postnet.shape == (1, 80, 1)
    assert stopped.mel_lengths.tolist() == [0]
    assert stopped.reached_max_decoder_steps.tolist() == [False]
    assert never_stop.mel_outputs_postnet.shape == (1, 80, 7)
    assert never_stop.mel_lengths.tolist() == [7]
    assert never_stop.reached_max_decoder_steps.tolist() == [True]


def test_no_early_stopping_runs_every_step_but_keeps_the_length(reference):
    text, lengths = single_text(reference)
    model = make_model(reference, decoder_no_early_stopping=True)
    with torch.no_grad():
        model.decoder.gate_layer.linear_layer.bias.fill_(10.0)
        result = model.infer(text, lengths, max_decoder_steps=6)
    assert result.mel_outputs_postnet.shape == (1, 80, 6)
    assert result.mel_lengths.tolist() == [0]
    assert result.reached_max_decoder_steps.tolist() == [False]
