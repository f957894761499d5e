import pytest

from speechsynth.errors import SpeechSynthError
from speechsynth.models.tacotron2 import Tacotron2Config
from speechsynth.train.config import build_config


def test_defaults_are_nvidias_recipe():
    config = build_config("tacotron2", Tacotron2Config)
    assert config.model.encoder_embedding_dim == 512
    assert config.model.max_decoder_steps == 2000
    assert (config.train.learning_rate, config.train.weight_decay) == (1e-3, 1e-6)
    assert config.train.anneal_steps == (500, 1000, 1500)
    assert config.train.grad_clip_thresh == 1.0
    assert config.data.cleaners == ("english_cleaners",)


def test_yaml_parent_chain_then_set(tmp_path):
    (tmp_path / "base.yaml").write_text(
        "train: {batch_size: 16, learning_rate: 5.0e-4}\nmodel: {attention_dim: 64}\n"
    )
    (tmp_path / "child.yaml").write_text("parent: base.yaml\ntrain: {batch_size: 8}\n")
    config = build_config(
        "tacotron2",
        Tacotron2Config,
        tmp_path / "child.yaml",
        ["learning_rate=1e-4", "data.cleaners=basic_cleaners,english_cleaners", "amp=yes"],
    )
    assert config.train.batch_size == 8  # child over parent
    assert config.model.attention_dim == 64  # inherited
    assert config.train.learning_rate == 1e-4  # --set over both
    assert config.data.cleaners == ("basic_cleaners", "english_cleaners")
    assert config.train.amp is True


@pytest.mark.parametrize(
    ("yaml_text", "assignments", "message"),
    [
        ("train: {batch_sise: 3}\n", [], "unknown train config key.*batch_sise.*valid keys"),
        ("optimiser: {}\n", [], "unknown config section 'optimiser'"),
        ("", ["train.epochs=ten"], "'train.epochs': 'ten' is not a valid int"),
        ("", ["epochs"], "expected KEY=VALUE"),
        ("", ["nonsense=1"], "no config key of that name"),
        ("", ["model.n_frames_per_step=2"], "n_frames_per_step=2 is not supported"),
        ("train: [1, 2]\n", [], "section 'train' must be a mapping"),
    ],
)
def test_config_errors_are_clear(tmp_path, yaml_text, assignments, message):
    (tmp_path / "c.yaml").write_text(yaml_text)
    with pytest.raises(SpeechSynthError, match=message):
        build_config("tacotron2", Tacotron2Config, tmp_path / "c.yaml", assignments)


def test_parent_cycle_and_missing_parent(tmp_path):
    (tmp_path / "a.yaml").write_text("parent: b.yaml\n")
    (tmp_path / "b.yaml").write_text("parent: a.yaml\n")
    with pytest.raises(SpeechSynthError, match="cycle"):
        build_config("tacotron2", Tacotron2Config, tmp_path / "a.yaml")
    (tmp_path / "c.yaml").write_text("parent: missing.yaml\n")
    with pytest.raises(SpeechSynthError, match=r"missing\.yaml: config file not found"):
        build_config("tacotron2", Tacotron2Config, tmp_path / "c.yaml")


def test_to_dict_round_trips_through_base():
    config = build_config("tacotron2", Tacotron2Config, assignments=["train.anneal_steps=5,9"])
    again = build_config("tacotron2", Tacotron2Config, base=config.to_dict())
    assert again == config
    assert config.to_dict()["train"]["anneal_steps"] == [5, 9]
    bracketed = build_config("tacotron2", Tacotron2Config, assignments=["anneal_steps=[5, 9]"])
    assert bracketed.train.anneal_steps == (5, 9)


def test_mapping_fields_take_dotted_keys():
    from dataclasses import dataclass, field

    @dataclass
    class NestedConfig:
        inner: dict[str, int] = field(default_factory=lambda: {"width": 8, "depth": 2})

        @classmethod
        def from_dict(cls, values):
            return cls(**values)

    config = build_config("nested", NestedConfig, assignments=["model.inner.width=16"])
    assert config.model.inner == {"width": 16, "depth": 2}
    with pytest.raises(SpeechSynthError, match=r"'model\.inner\.width': 'wide' is not a valid int"):
        build_config("nested", NestedConfig, assignments=["model.inner.width=wide"])
