#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages speechsynth needs, only those that are missing.
# Needs root (or sudo) only when something is actually missing.
#   python3-venv                  the virtual environment `make` creates
#   festival festvox-us-slt-hts   the teacher voice of `speechsynth corpus synth` and
#                                 `speechsynth eval intelligibility` (text2wave, US English HTS)
#   espeak-ng                     the other corpus engine (`corpus synth --engine espeak-ng`)
set -euo pipefail

missing=()
python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
command -v text2wave >/dev/null 2>&1 || missing+=(festival)
# The voice is a directory of festival's voice path, wherever festival's data lives.
compgen -G '/usr/share/festival/voices/*/cmu_us_slt_arctic_hts' >/dev/null ||
    compgen -G '/usr/local/share/festival/voices/*/cmu_us_slt_arctic_hts' >/dev/null ||
    missing+=(festvox-us-slt-hts)
command -v espeak-ng >/dev/null 2>&1 || missing+=(espeak-ng)

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
echo "installing system packages: ${missing[*]}" >&2
if ! command -v apt-get >/dev/null 2>&1; then
    echo "no apt-get here: install ${missing[*]} with your system's package manager" >&2
    exit 1
fi
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}"
