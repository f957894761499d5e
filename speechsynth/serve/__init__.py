"""Serving on NVIDIA Triton Inference Server: the served models (`tts_service`), the Python
backend that runs them inside Triton (`triton_backend`), the model repository (`repository`)
and `speechsynth serve` (`server`: Triton's own `tritonserver`, from the nvidia-pytriton wheel)."""
