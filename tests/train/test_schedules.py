import pytest

from speechsynth.train.schedules import annealed_learning_rate, noam_learning_rate


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


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        (1, 0.1 / 1000**1.5),
        (500, 0.1 * 500 / 1000**1.5),
        (1000, 0.1 / 1000**0.5),
        (4000, 0.1 / 4000**0.5),
    ],
)
def test_noam_warms_up_linearly_then_decays_as_inverse_sqrt(step, expected):
    assert noam_learning_rate(0.1, step, 1000) == pytest.approx(expected)


def test_noam_is_continuous_at_the_end_of_warmup_and_constant_without_warmup():
    assert noam_learning_rate(0.1, 1000, 1000) == pytest.approx(
        noam_learning_rate(0.1, 1001, 1000), rel=1e-3
    )
    assert noam_learning_rate(0.1, 7, 0) == 0.1
