"""Griffin-Lim as a vocoder: no trained weights, robotic but dependable, numpy only."""

from __future__ import annotations

import numpy as np

from speechsynth.audio.config import MelConfig
from speechsynth.audio.griffin_lim import GriffinLim
from speechsynth.errors import SpeechSynthError
from speechsynth.infer.vocoder_interface import Vocoder

GRIFFIN_LIM = "griffin-lim"


class GriffinLimVocoder(Vocoder):
    """Griffin-Lim phase reconstruction of the mels (`audio.griffin_lim`)."""

    name = GRIFFIN_LIM
    runtime = "numpy"
    # Its phases are found over the whole input: padding would change an utterance's audio.
    vocodes_each_alone = True

    def __init__(
        self,
        n_iter: int = 60,
        mel_config: MelConfig | None = None,
        momentum: float = 0.99,
        seed: int | None = 0,
    ) -> None:
        super().__init__(mel_config)
        if n_iter < 1:
            raise SpeechSynthError(f"Griffin-Lim needs at least 1 iteration, got {n_iter}")
        self.griffin_lim = GriffinLim(self.mel_config, n_iter=n_iter, momentum=momentum, seed=seed)

    def vocode(self, mels: np.ndarray) -> np.ndarray:
        return self.griffin_lim(mels)
