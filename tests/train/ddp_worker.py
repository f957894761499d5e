"""One process of the 2-process DDP test, started by torchrun: one tiny deterministic step."""

import sys
from pathlib import Path

import torch
from training_helpers import DETERMINISTIC, TINY_TACOTRON2, DeterministicTacotron2Task

from speechsynth.data.formats import read_filelist
from speechsynth.models.tacotron2 import Tacotron2Config
from speechsynth.train.config import build_config
from speechsynth.train.distributed import DistributedContext
from speechsynth.train.trainer import Trainer

torch.set_num_threads(1)
filelist, output = Path(sys.argv[1]), Path(sys.argv[2])
utterances = read_filelist(filelist)
assignments = [*TINY_TACOTRON2, *DETERMINISTIC, "train.epochs=1", "train.batch_size=1"]
config = build_config("tacotron2", Tacotron2Config, assignments=assignments)
context = DistributedContext.from_environment("cpu")
assert context.world_size == 2, context
trainer = Trainer(DeterministicTacotron2Task(), config, utterances, [], output, context)
trainer.fit()
context.close()
