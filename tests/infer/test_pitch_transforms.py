import pytest
import torch

from speechsynth.errors import SpeechSynthError
from speechsynth.infer.pitch_transforms import (
    PitchTransformSpec,
    build_pitch_transform,
    linear_ramp,
    load_custom_function,
)

MEAN, STD = torch.tensor([200.0]), torch.tensor([50.0])
PITCH = torch.tensor([[[0.4, -1.0, 2.0, 0.0]]])  # normalised, [B, 1, L]
LENGTHS = torch.tensor([4])


def apply(spec):
    return build_pitch_transform(spec)(PITCH.clone(), LENGTHS, MEAN, STD)


def to_hz(pitch):
    return pitch * STD + MEAN


def test_no_option_is_no_transform():
    assert build_pitch_transform(PitchTransformSpec()) is None


def test_shift_adds_hertz():
    shifted = apply(PitchTransformSpec(shift_hz=50.0))
    torch.testing.assert_close(to_hz(shifted) - to_hz(PITCH), torch.full_like(PITCH, 50.0))


def test_flatten_invert_amplify():
    torch.testing.assert_close(apply(PitchTransformSpec(flatten=True)), torch.zeros_like(PITCH))
    torch.testing.assert_close(apply(PitchTransformSpec(invert=True)), -PITCH)
    torch.testing.assert_close(apply(PitchTransformSpec(amplify=2.0)), 2 * PITCH)


def test_steps_compose_in_nvidias_order():
    # invert, then amplify, then shift: (-p) * 2 + 20 Hz / std
    combined = apply(PitchTransformSpec(invert=True, amplify=2.0, shift_hz=20.0))
    torch.testing.assert_close(combined, -2 * PITCH + 20.0 / STD)


def test_custom_function_sees_hertz():
    doubled = apply(PitchTransformSpec(custom=lambda hz, lengths: hz * 2))
    torch.testing.assert_close(to_hz(doubled), 2 * to_hz(PITCH))
    ramp = linear_ramp(torch.full((1, 1, 3), 100.0), torch.tensor([3]))
    torch.testing.assert_close(ramp, torch.tensor([[[50.0, 100.0, 150.0]]]))


def test_custom_function_from_a_file(tmp_path):
    script = tmp_path / "my_pitch.py"
    script.write_text("def up(pitch_hz, lengths):\n    return pitch_hz + 10\n")
    function = load_custom_function(f"{script}:up")
    assert float(function(torch.tensor(1.0), None)) == 11.0
    assert load_custom_function("speechsynth.infer.pitch_transforms:linear_ramp") is linear_ramp
    with pytest.raises(SpeechSynthError, match="has no function"):
        load_custom_function(f"{script}:down")
    with pytest.raises(SpeechSynthError, match="not found"):
        load_custom_function(f"{tmp_path / 'missing.py'}:up")
    with pytest.raises(SpeechSynthError, match=r"expected FILE\.py:FUNCTION"):
        load_custom_function("no_function_named")
