"""speechsynth: NVIDIA-compatible TTS (Tacotron 2, WaveGlow, FastPitch, FastSpeech)."""

__version__ = "0.1.0"
