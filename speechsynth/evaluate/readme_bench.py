"""`make bench`'s last step: the README's generated performance section replaced by the
markdown that this machine's `bench inference` / `bench train` runs printed.

    python -m speechsynth.evaluate.readme_bench README.md part.md [part.md ...]

The section lies between the BEGIN and END markers; the rest of the README is left as it is,
and the file is rewritten whole or not at all."""

from __future__ import annotations

import sys
from pathlib import Path

from speechsynth.errors import SpeechSynthError
from speechsynth.fileio import write_text_atomic

BEGIN = "<!-- make bench: begin (generated; edit speechsynth/evaluate/readme_bench.py) -->"
END = "<!-- make bench: end -->"


def splice_section(readme: str, body: str) -> str:
    """`readme` with the text between the markers replaced by `body`."""
    start, end = readme.find(BEGIN), readme.find(END)
    if start < 0 or end < start:
        raise SpeechSynthError(
            f"the README has no generated performance section: add the lines {BEGIN!r} and "
            f"{END!r} where it goes"
        )
    return f"{readme[: start + len(BEGIN)]}\n{body.strip()}\n{readme[end:]}"


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    if len(arguments) < 2:
        print("usage: python -m speechsynth.evaluate.readme_bench README.md PART.md ...")
        return 2
    readme, *parts = (Path(argument) for argument in arguments)
    try:
        body = "\n\n".join(part.read_text(encoding="utf-8").strip() for part in parts)
        write_text_atomic(readme, splice_section(readme.read_text(encoding="utf-8"), body))
    except (OSError, SpeechSynthError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
