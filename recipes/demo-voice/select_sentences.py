"""Pick the demo voice's sentences from the 13,100 LJSpeech transcripts, deterministically.

    .venv/bin/python recipes/demo-voice/select_sentences.py [--transcripts FILE] [--seed 1234]

writes `sentences-train.txt` (6,000) and `sentences-eval.txt` (100, held out) beside this script,
as `id|text` lines sorted by id. A transcript is kept when it

- has 3 to 17 words (short clips: a CPU trains on them quickly, and festival reads them well;
  only 4,886 transcripts of 3 to 15 words pass the other rules, 6,239 of 3 to 17 words);
- holds only ASCII letters, spaces and the punctuation `, . ; : ! ? ' " - ( )`: no digits and no
  other symbols, since the teacher (festival) and our text front end may read numbers, currency,
  dates and symbols differently ("1850" as a year or a count; "$3" ...) and the voice would learn
  audio that does not match its text;
- has no abbreviation that our cleaners expand (Mr., Mrs., Dr., St., Co., ...; "St." is "saint"
  to us and may be "street" to festival), no word with an inner full stop ("i.e.", "U.S."), and
  no all-capital word of two or more letters (acronyms and roman numerals: spelt out or read
  as words, the engine decides);
- (LJSpeech lines are often sentence fragments ending in a comma or mid-sentence: they are kept,
  as the teacher reads their punctuation as written; requiring a final full stop would leave
  only 2,848 lines);
- and its text (lower-cased) is not the same as an earlier kept one.

The kept transcripts are shuffled with `random.Random(seed)`; the first 100 are the evaluation
set, the next 6,000 the training set, so the two never share an id or a text.
"""

from __future__ import annotations

import argparse
import random
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
DEFAULT_TRANSCRIPTS = REPO.parent / "shared" / "data" / "ljspeech-text" / "transcripts.txt"
N_EVAL = 100
N_TRAIN = 6000
MIN_WORDS, MAX_WORDS = 3, 17

ALLOWED = re.compile(r"""^[A-Za-z ,.;:!?'"()\-]+$""")
ABBREVIATIONS = re.compile(
    r"\b(mrs|mr|dr|st|co|jr|maj|gen|drs|rev|lt|hon|sgt|capt|esq|ltd|col|ft|no|vol)\.",
    re.IGNORECASE,
)
INNER_STOP = re.compile(r"[A-Za-z]\.[A-Za-z]")
ACRONYM = re.compile(r"\b[A-Z]{2,}\b")


def keep(text: str) -> bool:
    words = text.split()
    return (
        MIN_WORDS <= len(words) <= MAX_WORDS
        and bool(ALLOWED.match(text))
        and not ABBREVIATIONS.search(text)
        and not INNER_STOP.search(text)
        and not ACRONYM.search(text)
    )


def select(transcripts: Path, seed: int) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    candidates, seen = [], set()
    for line in transcripts.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        sentence_id, _, text = line.partition("|")
        text = " ".join(text.split())
        if keep(text) and text.lower() not in seen:
            seen.add(text.lower())
            candidates.append((sentence_id, text))
    if len(candidates) < N_EVAL + N_TRAIN:
        raise SystemExit(f"only {len(candidates)} transcripts qualify; need {N_EVAL + N_TRAIN}")
    random.Random(seed).shuffle(candidates)
    evaluation = sorted(candidates[:N_EVAL])
    train = sorted(candidates[N_EVAL : N_EVAL + N_TRAIN])
    print(f"{len(candidates)} of the transcripts qualify; kept {len(train)} + {len(evaluation)}")
    return train, evaluation


def write(path: Path, rows: list[tuple[str, str]]) -> None:
    path.write_text("".join(f"{sentence_id}|{text}\n" for sentence_id, text in rows), "utf-8")
    print(f"wrote {path} ({len(rows)} sentences)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--transcripts", type=Path, default=DEFAULT_TRANSCRIPTS)
    parser.add_argument("--seed", type=int, default=1234)
    args = parser.parse_args()
    train, evaluation = select(args.transcripts, args.seed)
    write(HERE / "sentences-train.txt", train)
    write(HERE / "sentences-eval.txt", evaluation)


if __name__ == "__main__":
    main()
