"""The PyTorch runtime: checkpoint files (ours and NVIDIA's), served by `torch_backends`.
Importing this module imports no torch; opening a checkpoint does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from speechsynth.errors import SpeechSynthError
from speechsynth.infer.runtimes import AcousticBuilder, Runtime, RuntimeOptions, VocoderBuilder
from speechsynth.models.text_setup import TextSetup


class TorchRuntime(Runtime):
    name = "pytorch"

    def recognises(self, path: Path) -> bool:
        return path.is_file()

    def open(self, path: Path, options: RuntimeOptions) -> tuple[str, Any]:
        from speechsynth.models.registry import load_model

        loaded = load_model(path)
        return loaded.name, loaded

    def text_setup(self, path: Path) -> TextSetup:
        from speechsynth.models.registry import load_model

        return load_model(path).text_setup

    def acoustic_models(self) -> dict[str, AcousticBuilder]:
        from speechsynth.infer import torch_backends as backends

        classes = (backends.TorchTacotron2, backends.TorchFastPitch, backends.TorchFastSpeech)
        return {backend.name: backend for backend in classes}

    def vocoders(self) -> dict[str, VocoderBuilder]:
        from speechsynth.infer.torch_backends import hifigan_vocoder, waveglow_vocoder

        return {"waveglow": waveglow_vocoder, "hifigan": hifigan_vocoder}

    def refuse_options(self, path: Path, options: RuntimeOptions) -> None:
        if options.providers or options.engine_cache:
            raise SpeechSynthError(
                f"{path}: --providers and --engine-cache choose how an ONNX export runs; this "
                "is a PyTorch checkpoint (use --device)"
            )
