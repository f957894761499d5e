"""`bench inference`'s report as the seeds' markdown tables (plain Python: the CLI and `make bench`
format reports without importing torch)."""

from __future__ import annotations

from typing import Any

# NVIDIA's inference tables (tacotron2-waveglow.md, fastpitch.md), plus our runtime column
SEED_COLUMNS = (
    "Batch size",
    "Input length",
    "Runtime",
    "Precision",
    "Avg latency (s)",
    "Latency std (s)",
    "Latency tolerance interval 90% (s)",
    "Latency tolerance interval 95% (s)",
    "Latency tolerance interval 99% (s)",
    "Throughput (samples/sec)",
    "Speed-up with mixed precision",
    "Avg mels generated (86 mels = 1 s of speech)",
    "Avg audio length (s)",
    "Avg RTF",
)
STAGE_COLUMNS = (
    "Batch size",
    "Runtime",
    "Precision",
    "Text front end (s)",
    "Generator (s)",
    "Vocoder (s)",
    "Denoiser (s)",
    "Vocoder + denoiser share",
)


def markdown_table(columns: tuple[str, ...], rows: list[list[str]]) -> str:
    lines = ["|" + "|".join(columns) + "|", "|" + "|".join("---:" for _ in columns) + "|"]
    lines += ["|" + "|".join(cells) + "|" for cells in rows]
    return "\n".join(lines)


def precision_label(row: dict[str, Any]) -> str:
    """The precision asked for, and what each model ran at when that differs (auto -> int8)."""
    ran = {row.get("generator_precision"), row.get("vocoder_precision")} - {None, "-"}
    if ran and ran != {row["precision"]}:
        return f"{row['precision']} ({row['generator_precision']} + {row['vocoder_precision']})"
    return row["precision"]


def _speedup(row: dict[str, Any]) -> str:
    speedup = row.get("speedup_vs_fp32")
    return "-" if speedup is None else f"{speedup:.2f}"


def seed_row(row: dict[str, Any], text_length: int) -> list[str]:
    return [
        str(row["batch_size"]),
        str(text_length),
        row["runtime"],
        precision_label(row),
        f"{row['latency_mean_s']:.3f}",
        f"{row['latency_std_s']:.3f}",
        f"{row['latency_p90_s']:.3f}",
        f"{row['latency_p95_s']:.3f}",
        f"{row['latency_p99_s']:.3f}",
        f"{row['throughput_samples_per_s']:,.0f}",
        _speedup(row),
        f"{row['avg_mels_generated']:.0f}",
        f"{row['avg_audio_s']:.2f}",
        f"{row['avg_rtf']:.2f}",
    ]


def stage_row(row: dict[str, Any]) -> list[str]:
    stages = row["stage_seconds"]
    vocoding = stages["vocoder"] + stages["denoiser"]
    total = sum(stages.values())
    return [
        str(row["batch_size"]),
        row["runtime"],
        precision_label(row),
        *(f"{stages[stage]:.3f}" for stage in ("text", "generator", "vocoder", "denoiser")),
        f"{vocoding / total:.0%}" if total > 0 else "-",
    ]


def measured(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [row for row in report["rows"] if "skipped" not in row]


def skipped_lines(report: dict[str, Any]) -> list[str]:
    return [
        f"{row['runtime']} {row['precision']} batch {row['batch_size']}: {row['skipped']}"
        for row in report["rows"]
        if "skipped" in row
    ]


def machine_line(machine: dict[str, Any]) -> str:
    return (
        f"{machine['cpu']}, {machine['cores']} cores, {machine['threads']} torch thread(s); "
        f"Python {machine['python']}, torch {machine['torch']}, "
        f"ONNX Runtime {machine['onnxruntime'] or 'not installed'}"
    )


def inference_markdown(report: dict[str, Any]) -> str:
    """The seeds' latency table, then where the time goes, then rows that could not run."""
    rows = measured(report)
    parts = [
        f"{report['generator']} + {report['vocoder']}, {report['text_length']}-character text, "
        f"{report['repeats']} timed runs after {report['warmup']} warm-up; "
        f"{machine_line(report['machine'])}.",
        markdown_table(SEED_COLUMNS, [seed_row(row, report["text_length"]) for row in rows]),
        "Where the time goes (seconds per run, mean):",
        markdown_table(STAGE_COLUMNS, [stage_row(row) for row in rows]),
    ]
    skipped = skipped_lines(report)
    if skipped:
        parts.append("Not measured here:\n" + "\n".join(f"- {line}" for line in skipped))
    if report.get("plot"):
        parts.append(f"![Latency per run and real-time factor]({report['plot']})")
    return "\n\n".join(parts)
