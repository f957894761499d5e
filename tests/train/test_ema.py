import torch
from torch import nn

from speechsynth.train.ema import make_ema_model, update_ema


def test_ema_averages_floating_state_and_copies_integer_buffers():
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    ema_model = make_ema_model(model)
    start = {name: tensor.clone() for name, tensor in ema_model.state_dict().items()}
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(1.0)
    model[1].num_batches_tracked += 5
    update_ema(ema_model, model, decay=0.9)
    averaged = ema_model.state_dict()
    for name, tensor in model.state_dict().items():
        if tensor.is_floating_point():
            torch.testing.assert_close(averaged[name], 0.9 * start[name] + 0.1 * tensor)
        else:
            assert torch.equal(averaged[name], tensor)
    assert not any(parameter.requires_grad for parameter in ema_model.parameters())
    assert all(parameter.requires_grad for parameter in model.parameters())
