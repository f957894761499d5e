import json

from training_helpers import TINY_TACOTRON2

from speechsynth.data.formats import read_ljspeech
from speechsynth.models.tacotron2 import Tacotron2Config
from speechsynth.train.config import build_config
from speechsynth.train.tacotron2 import Tacotron2Task
from speechsynth.train.trainer import Trainer

SHORTEST_CLIPS = ("LJ001-0008", "LJ001-0002", "LJ001-0013", "LJ001-0011")  # 1.8 to 4.5 s


def test_tiny_tacotron2_loss_falls_five_fold_on_four_clips(ljspeech_mini, tmp_path):
    by_id = {u.utterance_id: u for u in read_ljspeech(ljspeech_mini)}
    clips = [by_id[clip_id] for clip_id in SHORTEST_CLIPS]
    settings = ["train.batch_size=4", "train.epochs=30", "train.learning_rate=2e-3"]
    config = build_config("tacotron2", Tacotron2Config, assignments=[*TINY_TACOTRON2, *settings])
    Trainer(Tacotron2Task(), config, clips, [], tmp_path).fit()
    records = [json.loads(line) for line in (tmp_path / "train_log.jsonl").read_text().splitlines()]
    losses = [r["loss"] for r in records if r["event"] == "iteration"]
    assert len(losses) == 30
    assert min(losses[-5:]) * 5 <= losses[0], losses
