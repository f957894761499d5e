"""The networks (NVIDIA-compatible parameter names and shapes) and their checkpoint helpers."""
