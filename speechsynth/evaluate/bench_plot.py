"""`bench inference --plot`: the latency distribution and real-time factor of every measured
configuration, as one PNG (matplotlib, no display needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from speechsynth.evaluate.bench_tables import measured, precision_label
from speechsynth.fileio import atomic_path


def configuration_label(row: dict[str, Any]) -> str:
    return f"batch {row['batch_size']}\n{row['runtime']} {precision_label(row)}"


def plot_inference_report(report: dict[str, Any], path: str | Path) -> Path:
    """Left: each configuration's latencies (box plot, one box per batch size and option);
    right: its average real-time factor. Written whole or not at all."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = sorted(measured(report), key=lambda row: (row["batch_size"], row["runtime"]))
    if not rows:
        from speechsynth.errors import SpeechSynthError

        raise SpeechSynthError("--plot: no configuration was measured, nothing to plot")
    labels = [configuration_label(row) for row in rows]
    figure, (latency_axes, rtf_axes) = plt.subplots(
        1, 2, figsize=(max(8.0, 1.6 * len(rows) + 4.0), 4.5), constrained_layout=True
    )
    latency_axes.boxplot([row["latencies_s"] for row in rows], tick_labels=labels)
    latency_axes.set_ylabel("latency (s), text in to audio out")
    latency_axes.set_title("Latency per run")
    rtf_axes.bar(range(len(rows)), [row["avg_rtf"] for row in rows], tick_label=labels)
    rtf_axes.axhline(1.0, color="grey", linestyle="--", linewidth=1)
    rtf_axes.set_ylabel("real-time factor (audio s per s)")
    rtf_axes.set_title("Average RTF (> 1: faster than real time)")
    for axes in (latency_axes, rtf_axes):
        axes.tick_params(axis="x", labelsize=8)
    figure.suptitle(f"{report['generator']} + {report['vocoder']}, {report['text_length']} chars")
    path = Path(path)
    with atomic_path(path) as staged:
        figure.savefig(staged, format="png", dpi=100)
    plt.close(figure)
    return path
