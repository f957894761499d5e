import os
import socket
import subprocess
import sys
from pathlib import Path

import torch
from training_helpers import (
    DETERMINISTIC,
    TINY_TACOTRON2,
    DeterministicTacotron2Task,
    assert_same_first_adam_step,
)

from speechsynth.data.formats import write_filelist
from speechsynth.models.checkpoint import read_checkpoint
from speechsynth.models.tacotron2 import Tacotron2Config
from speechsynth.train.config import build_config
from speechsynth.train.trainer import Trainer, seed_everything


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_two_process_gloo_step_equals_one_process_on_the_combined_batch(
    equal_length_clips, tmp_path
):
    clips = equal_length_clips
    filelist = tmp_path / "clips" / "list.txt"
    write_filelist(filelist, [(clip.audio_path, clip.text) for clip in clips])
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node=2",
        "--master_addr=127.0.0.1",
        f"--master_port={free_port()}",
        str(Path(__file__).with_name("ddp_worker.py")),
        str(filelist),
        str(tmp_path / "ddp"),
    ]
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(Path(__file__).parent)}
    result = subprocess.run(
        command, capture_output=True, text=True, env=environment, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    distributed = read_checkpoint(tmp_path / "ddp" / "checkpoint_last.pt")
    assert (distributed["world_size"], distributed["step"], len(distributed["rng_states"])) == (
        2,
        1,
        2,
    )

    config = build_config(
        "tacotron2",
        Tacotron2Config,
        assignments=[*TINY_TACOTRON2, *DETERMINISTIC, "train.epochs=1"],
    )
    single = Trainer(DeterministicTacotron2Task(), config, clips, [], tmp_path / "single")
    single.fit()  # batch_size 2: both clips in one step

    seed_everything(config.train.seed)  # as the trainer does: the same starting weights
    initial = DeterministicTacotron2Task().build_model(config)
    assert_same_first_adam_step(
        (single.model.state_dict(), single.optimizer.state_dict()),
        (distributed["state_dict"], distributed["optimizer"]),
        config.train.learning_rate,
    )
    moved = 0
    for name, value in single.model.state_dict().items():
        moved += not torch.equal(value, initial.state_dict()[name])
    assert moved > 10  # the step really changed the weights
