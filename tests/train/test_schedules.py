import pytest

from speechsynth.train.schedules import annealed_learning_rate


@pytest.mark.parametrize(
    ("epoch", "expected"), [(0, 1e-3), (499, 1e-3), (500, 1e-4), (1000, 1e-5), (1500, 1e-6)]
)
def test_step_decay_at_anneal_epochs(epoch, expected):
    assert annealed_learning_rate(1e-3, epoch, (500, 1000, 1500), 0.1) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("epoch", "expected"), [(0, 1.0), (1, 0.3), (2, 0.1), (3, 0.03), (4, 0.01)]
)
def test_nvidia_factor_point_three_alternates(epoch, expected):
    assert annealed_learning_rate(1.0, epoch, (1, 2, 3, 4), 0.3) == pytest.approx(expected)
