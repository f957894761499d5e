#!/usr/bin/env bash
# Builds the bundled demo voice from nothing, on CPU (`make voice`):
#   festival corpus -> mels -> Praat pitch -> FastPitch 1.1 (learned aligner) -> voice file -> WER.
# Every step resumes where it stopped; run it again after an interruption.
#   WORK       where the corpus and the run go (default: build/demo-voice)
#   EPOCHS     training epochs over the 5,950 training clips (default: 15, 372 steps each;
#              the bundled voice: 15 epochs, 74 min on 2 threads)
#   JOBS       processes for the corpus and the data preparation (default: 2)
set -euo pipefail
cd "$(dirname "$0")/../.."
WORK=${WORK:-build/demo-voice}
EPOCHS=${EPOCHS:-15}
JOBS=${JOBS:-2}
BIN=${BIN:-.venv/bin}
export OMP_WAIT_POLICY=PASSIVE

"$BIN/speechsynth" corpus synth --engine festival --sentences recipes/demo-voice/sentences-train.txt \
    --out "$WORK/corpus" --jobs "$JOBS"
OMP_NUM_THREADS=1 "$BIN/speechsynth" prepare mels "$WORK/corpus" --output "$WORK/corpus/mels" --jobs "$JOBS"
OMP_NUM_THREADS=1 "$BIN/speechsynth" prepare pitch "$WORK/corpus" --method praat \
    --output "$WORK/corpus/pitch" --mel-dir "$WORK/corpus/mels" --jobs "$JOBS"

resume=()
[ -f "$WORK/run/checkpoint_last.pt" ] && resume=(--resume)
OMP_NUM_THREADS=2 "$BIN/speechsynth" train fastpitch --dataset "$WORK/corpus" --output "$WORK/run" \
    --config recipes/demo-voice/fastpitch.yaml --amp "${resume[@]}" \
    --set data.mel_dir="$WORK/corpus/mels" --set data.pitch_dir="$WORK/corpus/pitch" \
    --set train.epochs="$EPOCHS"

"$BIN/speechsynth" voice pack "$WORK/run/checkpoint_last.pt" -o speechsynth/voices/demo.pt \
    --griffin-lim-iters 60
# What `say` speaks with: the voice as an ONNX export (no torch at run time).
"$BIN/speechsynth" export --model speechsynth/voices/demo.pt -o speechsynth/voices/demo
"$BIN/speechsynth" eval intelligibility --voice speechsynth/voices/demo.pt \
    --sentences recipes/demo-voice/sentences-eval.txt --teacher festival --json > "$WORK/eval.json"
echo "voice: speechsynth/voices/demo.pt and its export speechsynth/voices/demo/; intelligibility: $WORK/eval.json"
