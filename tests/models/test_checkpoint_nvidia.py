"""NVIDIA checkpoint layouts: unwrap, strip DDP prefixes, strict loading with one-line errors."""

from __future__ import annotations

import pytest
import torch

from speechsynth.errors import SpeechSynthError
from speechsynth.models.checkpoint import (
    load_state_dict_strict,
    strip_prefixes,
    unwrap_nvidia_checkpoint,
)
from speechsynth.models.registry import load_model
from speechsynth.models.tacotron2 import Tacotron2, Tacotron2Config

SMALL = {
    "symbols_embedding_dim": 32,
    "encoder_embedding_dim": 32,
    "attention_rnn_dim": 32,
    "decoder_rnn_dim": 32,
    "prenet_dim": 16,
    "postnet_embedding_dim": 16,
}


@pytest.fixture(scope="module")
def trained() -> Tacotron2:
    torch.manual_seed(0)
    return Tacotron2(Tacotron2Config(**SMALL)).eval()


def nvidia_checkpoint(model: Tacotron2, prefix: str = "module.") -> dict:
    """What NVIDIA's train.py saves from a DistributedDataParallel-wrapped model."""
    return {
        "epoch": 3,
        "config": model.config.nvidia_kwargs(),
        "state_dict": {prefix + key: value for key, value in model.state_dict().items()},
        "optimizer": {"state": {}, "param_groups": []},
    }


def test_strip_prefixes_removes_ddp_and_hub_prefixes():
    weight = torch.zeros(1)
    stripped = strip_prefixes(
        {"module.embedding.weight": weight, "module.1.decoder.x": weight, "postnet.y": weight}
    )
    assert list(stripped) == ["embedding.weight", "decoder.x", "postnet.y"]


def test_ddp_checkpoint_loads_and_reproduces_the_model(trained):
    state_dict, config = unwrap_nvidia_checkpoint(nvidia_checkpoint(trained), "ckpt.pt")
    assert config == trained.config.nvidia_kwargs()
    loaded = Tacotron2(Tacotron2Config.from_dict(config)).eval()
    load_state_dict_strict(loaded, state_dict, "ckpt.pt")
    text, lengths = torch.tensor([[20, 30, 11, 40, 41]]), torch.tensor([5])
    with torch.no_grad():
        expected = trained.infer(text, lengths, max_decoder_steps=4, generator=torch.Generator())
        actual = loaded.infer(text, lengths, max_decoder_steps=4, generator=torch.Generator())
    assert torch.equal(actual.mel_outputs_postnet, expected.mel_outputs_postnet)


@pytest.mark.parametrize(
    "wrap",
    [
        pytest.param(lambda sd: sd, id="bare state_dict"),
        pytest.param(lambda sd: {"model": sd, "step": 10, "optim": {}}, id="fastspeech"),
        pytest.param(lambda sd: {"state_dict": sd, "ema_state_dict": None}, id="ema none"),
        pytest.param(lambda sd: {"state_dict": {}, "ema_state_dict": sd}, id="ema preferred"),
        pytest.param(
            lambda sd: {"state_dict": {"module.1." + k: v for k, v in sd.items()}}, id="hub"
        ),
    ],
)
def test_unwrap_finds_the_weights_in_every_layout(trained, wrap):
    state_dict, _ = unwrap_nvidia_checkpoint(wrap(trained.state_dict()))
    assert list(state_dict) == list(trained.state_dict())


def test_unwrap_without_weights_names_the_file_and_its_keys():
    with pytest.raises(
        SpeechSynthError, match=r"run\.pt: no model weights found.*epoch, optimizer"
    ):
        unwrap_nvidia_checkpoint({"epoch": 1, "optimizer": {}}, "run.pt")


def test_mismatched_checkpoint_raises_one_line_naming_the_file(trained):
    state_dict = dict(trained.state_dict())
    del state_dict["embedding.weight"]
    state_dict["decoder.extra.weight"] = torch.zeros(1)
    state_dict["postnet.convolutions.0.1.bias"] = torch.zeros(3)
    model = Tacotron2(Tacotron2Config(**SMALL))
    with pytest.raises(SpeechSynthError) as raised:
        load_state_dict_strict(model, state_dict, "checkpoint_Tacotron2_3.pt")
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("checkpoint_Tacotron2_3.pt does not fit Tacotron2")
    assert "1 missing keys (embedding.weight)" in message
    assert "1 unexpected keys (decoder.extra.weight)" in message
    assert "postnet.convolutions.0.1.bias [3] vs model [16]" in message


def test_long_key_lists_are_shortened(trained):
    model = Tacotron2(Tacotron2Config(**{**SMALL, "postnet_embedding_dim": 24}))
    with pytest.raises(SpeechSynthError, match=r"shape mismatches \([^)]*, \.\.\.\)"):
        load_state_dict_strict(model, trained.state_dict(), "small.pt")


def test_a_text_file_named_like_a_checkpoint_is_not_a_checkpoint(tmp_path):
    path = tmp_path / "model.pt"
    path.write_text("Hello, I am a text file.\n", encoding="utf-8")
    with pytest.raises(SpeechSynthError, match=r"model\.pt: not a checkpoint \(a PyTorch file"):
        load_model(path)
