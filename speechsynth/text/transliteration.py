"""Unicode -> ASCII as NVIDIA's own `unidecoder` does it (Tacotron 2 and FastPitch at HEAD).

NVIDIA's cleaners do not use the `unidecode` package: each character below U+007F is kept, any
other is looked up in a table of transliterations (sindresorhus/transliterate: "ü" -> "ue",
"ж" -> "zh", "€" -> "E") and then of homoglyphs (codebox/homoglyph: "“" -> '"', "–" -> "-"), and
a character in neither is dropped ("£", "—", "…", "世"). `nvidia_transliteration.json`
holds that table as one mapping, the transliterations taking precedence as in NVIDIA's code.
"""

from __future__ import annotations

import functools
import json
from importlib import resources

_TABLE_FILE = "nvidia_transliteration.json"
_FIRST_LOOKED_UP = 127  # NVIDIA keeps characters with ord(c) < 127 and looks up the rest


@functools.cache
def nvidia_table() -> dict[str, str]:
    """{character: its ASCII replacement} ('' for characters NVIDIA maps to nothing)."""
    with resources.files(__package__).joinpath(_TABLE_FILE).open(encoding="ascii") as file:
        return json.load(file)["mapping"]


def nvidia_to_ascii(text: str) -> str:
    """ "Zoë’s café: £12 — €5" -> "Zoe's cafe: 12  E5" (unknown characters are dropped)."""
    if text.isascii() and "\x7f" not in text:
        return text
    table = nvidia_table()
    return "".join(
        character if ord(character) < _FIRST_LOOKED_UP else table.get(character, "")
        for character in text
    )
