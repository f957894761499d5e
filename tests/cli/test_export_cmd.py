import json
import logging

import soundfile

from speechsynth.cli import main


def test_export_then_synthesize_from_the_onnx_directory(parity_dir, tmp_path, capsys, caplog):
    export_dir = tmp_path / "t2-onnx"
    checkpoint = str(parity_dir / "tacotron2.pt")
    assert main(["export", "--model", checkpoint, "-o", str(export_dir), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["files"]["decoder_iter"] == "decoder_iter.onnx"
    assert summary["prenet_dropout"] is True
    output_dir = tmp_path / "out"
    arguments = ["--text", "Hello there.", "-o", str(output_dir), "--max-decoder-steps", "12"]
    fast = ["--griffin-lim-iters", "2", "--json", "--seed", "1"]
    with caplog.at_level(logging.WARNING):
        assert main(["synthesize", "--model", str(export_dir), *arguments, *fast]) == 0
    assert "--seed cannot seed" in caplog.text
    result = json.loads(capsys.readouterr().out)
    audio, rate = soundfile.read(output_dir / "0001.wav")
    assert rate == 22050 and len(audio) == 12 * 256  # the random gate never fires: 12 frames
    assert result["utterances"][0]["hit_max_decoder_steps"] is True


def test_onnx_directory_refuses_other_precisions(parity_dir, tmp_path, capsys):
    export_dir = tmp_path / "t2-onnx"
    main(["export", "--model", str(parity_dir / "tacotron2.pt"), "-o", str(export_dir)])
    code = main(
        [
            "synthesize",
            "--model",
            str(export_dir),
            "--text",
            "Hi.",
            "-o",
            str(tmp_path / "o"),
            "--precision",
            "int8",
        ]
    )
    assert code != 0
    assert "an ONNX export runs in fp32 with ONNX Runtime" in capsys.readouterr().err
