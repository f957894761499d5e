"""Execution providers for exported graphs: chosen and configured as documented (this machine
has no GPU: TensorRT and CUDA options are checked as built, the CPU provider is run)."""

from __future__ import annotations

import onnx
import pytest
from onnx import TensorProto, helper

from speechsynth.errors import SpeechSynthError
from speechsynth.infer.providers import (
    ProviderSettings,
    choose_providers,
    parse_provider_names,
    provider_options,
    tensorrt_profiles,
)

CPU_ONLY = ["CPUExecutionProvider"]
GPU_BUILD = ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]


def test_provider_names_are_parsed_in_order_and_checked():
    assert parse_provider_names("TensorRT, cuda,cpu") == ("tensorrt", "cuda", "cpu")
    with pytest.raises(SpeechSynthError, match="choose from tensorrt, cuda, cpu"):
        parse_provider_names("tensorrt,rocm")


def test_default_is_every_installed_provider_best_first():
    assert choose_providers(None, CPU_ONLY) == ["cpu"]
    assert choose_providers(None, GPU_BUILD) == ["tensorrt", "cuda", "cpu"]
    assert choose_providers(None, ["CUDAExecutionProvider", "CPUExecutionProvider"]) == [
        "cuda",
        "cpu",
    ]
    assert choose_providers(("cuda", "cpu"), GPU_BUILD) == ["cuda", "cpu"]


def test_asking_for_a_provider_this_build_lacks_is_a_one_line_error():
    with pytest.raises(SpeechSynthError, match=r"no tensorrt provider .*has: cpu.*onnxruntime-gpu"):
        choose_providers(("tensorrt", "cpu"), CPU_ONLY)


def test_nvidia_profiles_for_text_and_mel_inputs():
    fastpitch = {"text": ["batch", "text_len"], "text_lengths": ["batch"], "pace": [1]}
    assert tensorrt_profiles(fastpitch, max_batch=4) == {
        "trt_profile_min_shapes": "text:1x4,text_lengths:1,pace:1",
        "trt_profile_opt_shapes": "text:1x128,text_lengths:1,pace:1",
        "trt_profile_max_shapes": "text:4x256,text_lengths:4,pace:1",
    }
    waveglow = {"mel": ["batch", 80, "mel_len"], "z": ["batch", 8, "32*mel_len"]}
    profiles = tensorrt_profiles(waveglow, max_batch=1)
    assert profiles["trt_profile_min_shapes"] == "mel:1x80x32,z:1x8x1024"
    assert profiles["trt_profile_max_shapes"] == "mel:1x80x1664,z:1x8x53248"
    assert tensorrt_profiles({"x": ["batch", "something_else"]}) == {}  # TensorRT picks


def _tiny_graph(path) -> None:
    text = helper.make_tensor_value_info("text", TensorProto.INT64, ["batch", "text_len"])
    out = helper.make_tensor_value_info("out", TensorProto.INT64, ["batch", "text_len"])
    graph = helper.make_graph([helper.make_node("Identity", ["text"], ["out"])], "g", [text], [out])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]), str(path))


def test_tensorrt_runs_in_fp16_with_an_engine_cache_and_profiles(tmp_path):
    graph = tmp_path / "model.onnx"
    _tiny_graph(graph)
    chosen = provider_options(["tensorrt", "cuda", "cpu"], graph, ProviderSettings())
    assert [name for name, _ in chosen] == [
        "TensorrtExecutionProvider",
        "CUDAExecutionProvider",
        "CPUExecutionProvider",
    ]
    tensorrt = chosen[0][1]
    assert tensorrt["trt_fp16_enable"] is True and tensorrt["trt_engine_cache_enable"] is True
    assert tensorrt["trt_engine_cache_path"] == str(tmp_path / "tensorrt_cache")
    assert tensorrt["trt_profile_opt_shapes"] == "text:1x128"
    assert tensorrt["trt_profile_max_shapes"] == "text:8x256"
    custom = ProviderSettings(engine_cache=tmp_path / "engines", fp16=False)
    tensorrt = provider_options(["tensorrt"], graph, custom)[0][1]
    assert tensorrt["trt_engine_cache_path"] == str(tmp_path / "engines")
    assert tensorrt["trt_fp16_enable"] is False
