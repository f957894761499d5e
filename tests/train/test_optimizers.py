import pytest
import torch

from speechsynth.errors import SpeechSynthError
from speechsynth.train.optimizers import Lamb, build_optimizer


def reference_lamb_steps(weight, grads, lr, betas, eps, weight_decay, max_grad_norm):
    """apex multi_tensor_lamb for one tensor, written out step by step in float64."""
    weight = weight.double().clone()
    exp_avg = torch.zeros_like(weight)
    exp_avg_sq = torch.zeros_like(weight)
    for step, grad in enumerate(grads, start=1):
        grad = grad.double() / max(1.0, float(grad.double().norm()) / max_grad_norm)
        exp_avg = betas[0] * exp_avg + (1 - betas[0]) * grad
        exp_avg_sq = betas[1] * exp_avg_sq + (1 - betas[1]) * grad * grad
        update = (exp_avg / (1 - betas[0] ** step)) / (
            (exp_avg_sq / (1 - betas[1] ** step)).sqrt() + eps
        ) + weight_decay * weight
        weight = weight - lr * (weight.norm() / update.norm()) * update
    return weight


def test_lamb_matches_the_apex_update_over_three_steps():
    torch.manual_seed(0)
    start = torch.randn(5, 4)
    grads = [torch.randn(5, 4) * scale for scale in (0.1, 3.0, 0.5)]  # one above max_grad_norm
    parameter = torch.nn.Parameter(start.clone())
    optimizer = Lamb([parameter], lr=0.05, betas=(0.9, 0.98), eps=1e-9, weight_decay=1e-6)
    for grad in grads:
        parameter.grad = grad.clone()
        optimizer.step()
    expected = reference_lamb_steps(start, grads, 0.05, (0.9, 0.98), 1e-9, 1e-6, 1.0)
    torch.testing.assert_close(parameter.detach().double(), expected, atol=1e-6, rtol=1e-5)


def test_lamb_step_size_is_relative_to_each_weight_norm():
    small = torch.nn.Parameter(torch.full((10,), 0.01))
    large = torch.nn.Parameter(torch.full((10,), 100.0))
    optimizer = Lamb([small, large], lr=0.1, weight_decay=1e-6)
    small.grad, large.grad = torch.randn(10), torch.randn(10)
    before = [small.detach().clone(), large.detach().clone()]
    optimizer.step()
    for old, new in zip(before, (small, large), strict=True):
        assert float((new.detach() - old).norm() / old.norm()) == pytest.approx(0.1, rel=1e-4)


def test_lamb_minimises_a_quadratic():
    torch.manual_seed(0)
    target = torch.randn(8)
    parameter = torch.nn.Parameter(torch.randn(8))
    optimizer = Lamb([parameter], lr=0.05, weight_decay=1e-6)
    first = float(((parameter.detach() - target) ** 2).sum())
    for _ in range(300):
        optimizer.zero_grad()
        ((parameter - target) ** 2).sum().backward()
        optimizer.step()
    assert float(((parameter.detach() - target) ** 2).sum()) < first / 100


def test_build_optimizer_names_and_errors():
    parameter = [torch.nn.Parameter(torch.zeros(2))]
    assert isinstance(build_optimizer("lamb", parameter, 0.1, (0.9, 0.98), 1e-9, 1e-6), Lamb)
    adam = build_optimizer("adam", parameter, 1e-3, (0.9, 0.999), 1e-8, 1e-6)
    assert isinstance(adam, torch.optim.Adam)
    with pytest.raises(SpeechSynthError, match=r"unknown train\.optimizer"):
        build_optimizer("sgd", parameter, 0.1, (0.9, 0.98), 1e-9, 0.0)
