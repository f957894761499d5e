"""Optimizers the recipes name: Adam (torch) and LAMB as NVIDIA's apex `FusedLAMB` computes it.

NVIDIA trains FastPitch with apex's `FusedLAMB`, a CUDA-only extension. No maintained PyPI
package reproduces its exact update (torch-optimizer's `Lamb` is unmaintained and differs: no
global gradient-norm pre-scaling, a clamped trust ratio), so `Lamb` below is written from
apex's `multi_tensor_lamb` kernel (You et al. 2019, "Large Batch Optimization for Deep Learning"),
in plain tensor operations that run on CPU and CUDA alike:

1. the gradients of all parameters are divided by max(1, global_grad_norm / max_grad_norm);
2. Adam moments with bias correction: update = m_hat / (sqrt(v_hat) + eps) + weight_decay * w
   (decoupled weight decay, apex's `adam_w_mode=True`);
3. per parameter tensor, trust ratio = ||w|| / ||update|| when both norms are non-zero and the
   group has weight decay (apex without `use_nvlamb`), else 1; w -= lr * trust_ratio * update.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import Tensor, nn

from speechsynth.errors import SpeechSynthError

OPTIMIZERS = ("adam", "lamb")


class Lamb(torch.optim.Optimizer):
    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-6,
        weight_decay: float = 0.01,
        max_grad_norm: float = 1.0,
    ):
        if lr < 0 or eps < 0 or weight_decay < 0 or not all(0 <= beta < 1 for beta in betas):
            raise ValueError(f"invalid LAMB settings lr={lr} betas={betas} eps={eps}")
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay}
        super().__init__(params, defaults)
        self.max_grad_norm = max_grad_norm

    def _global_grad_scale(self) -> Tensor | None:
        grads = [
            p.grad for group in self.param_groups for p in group["params"] if p.grad is not None
        ]
        if not grads:
            return None
        global_norm = torch.linalg.vector_norm(
            torch.stack([torch.linalg.vector_norm(grad.float()) for grad in grads])
        )
        return torch.clamp(global_norm / self.max_grad_norm, min=1.0)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        grad_scale = self._global_grad_scale()
        if grad_scale is None:
            return loss
        for group in self.param_groups:
            for parameter in group["params"]:
                if parameter.grad is not None:
                    self._update(parameter, group, grad_scale)
        return loss

    def _update(self, parameter: Tensor, group: dict, grad_scale: Tensor) -> None:
        beta1, beta2 = group["betas"]
        state = self.state[parameter]
        if not state:
            state["step"] = 0
            state["exp_avg"] = torch.zeros_like(parameter, dtype=torch.float32)
            state["exp_avg_sq"] = torch.zeros_like(parameter, dtype=torch.float32)
        state["step"] += 1
        step = state["step"]
        grad = parameter.grad.float() / grad_scale
        state["exp_avg"].mul_(beta1).add_(grad, alpha=1 - beta1)
        state["exp_avg_sq"].mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        exp_avg_hat = state["exp_avg"] / (1 - beta1**step)
        exp_avg_sq_hat = state["exp_avg_sq"] / (1 - beta2**step)
        weight = parameter.float()
        update = exp_avg_hat / (exp_avg_sq_hat.sqrt() + group["eps"])
        if group["weight_decay"] != 0:
            update = update + group["weight_decay"] * weight
        ratio = group["lr"] * self._trust_ratio(weight, update, group["weight_decay"])
        parameter.copy_((weight - ratio * update).to(parameter.dtype))

    @staticmethod
    def _trust_ratio(weight: Tensor, update: Tensor, weight_decay: float) -> Tensor | float:
        if weight_decay == 0:
            return 1.0
        weight_norm = torch.linalg.vector_norm(weight)
        update_norm = torch.linalg.vector_norm(update)
        usable = (weight_norm > 0) & (update_norm > 0)
        return torch.where(usable, weight_norm / update_norm.clamp(min=1e-30), 1.0)


def build_optimizer(
    name: str,
    parameters: Iterable[nn.Parameter],
    learning_rate: float,
    betas: tuple[float, ...],
    eps: float,
    weight_decay: float,
) -> torch.optim.Optimizer:
    """The optimizer `train.optimizer` names, with the train config's settings."""
    if len(betas) != 2:
        raise SpeechSynthError(f"train.betas needs two values, got {list(betas)}")
    beta_pair = (float(betas[0]), float(betas[1]))
    if name == "adam":
        return torch.optim.Adam(
            parameters, lr=learning_rate, betas=beta_pair, eps=eps, weight_decay=weight_decay
        )
    if name == "lamb":
        return Lamb(
            parameters, lr=learning_rate, betas=beta_pair, eps=eps, weight_decay=weight_decay
        )
    raise SpeechSynthError(f"unknown train.optimizer {name!r}; choose one of {OPTIMIZERS}")
