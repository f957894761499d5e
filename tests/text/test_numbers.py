import pytest

from speechsynth.text import normalize_numbers

CASES = [
    # money
    ("$3.50", "three dollars fifty cents"),
    ("$1.01", "one dollar one cent"),
    ("$5", "five dollars"),
    ("$1", "one dollar"),
    ("$0.99", "ninety-nine cents"),
    ("$0.01", "one cent"),
    ("$0", "zero dollars"),
    ("$5.00", "five dollars"),
    ("$3.5", "three dollars fifty cents"),
    ("$1,000,000", "one million dollars"),
    ("$1,234.56", "one thousand two hundred thirty-four dollars fifty-six cents"),
    ("£2.50", "two pounds fifty pence"),
    ("£1", "one pound"),
    ("£0.01", "one penny"),
    ("€10", "ten euros"),
    ("€1.50", "one euro fifty cents"),
    ("10€", "ten euros"),
    ("100 USD", "one hundred dollars"),
    ("$2.5 million", "two point five million dollars"),
    ("£3 billion", "three billion pounds"),
    ("$5bn", "five billion dollars"),
    ("$5k", "five thousand dollars"),
    ("-$5", "minus five dollars"),
    ("It costs $3.50.", "It costs three dollars fifty cents."),
    # years and decades
    ("in 1066", "in ten sixty-six"),
    ("in 1990", "in nineteen ninety"),
    ("in 2000", "in two thousand"),
    ("in 2005", "in two thousand five"),
    ("in 2019", "in twenty nineteen"),
    ("in 2010", "in twenty ten"),
    ("in 1900", "in nineteen hundred"),
    ("in 1905", "in nineteen oh five"),
    ("the 1990s", "the nineteen nineties"),
    ("the 1800s", "the eighteen hundreds"),
    ("the '90s", "the nineties"),
    ("1,990 people", "one thousand nine hundred ninety people"),
    ("in 1990, 1991 and 1992", "in nineteen ninety, nineteen ninety-one and nineteen ninety-two"),
    ("3000 years", "three thousand years"),
    # decimals
    ("3.14", "three point one four"),
    ("3.05", "three point zero five"),
    ("0.5", "zero point five"),
    ("costs .5", "costs point five"),
    ("version 2.10.1", "version two point ten point one"),
    # percentages
    ("50%", "fifty percent"),
    ("3.5%", "three point five percent"),
    ("-3.5%", "minus three point five percent"),
    # ordinals
    ("1st", "first"),
    ("22nd", "twenty-second"),
    ("103rd", "one hundred third"),
    ("the 4th of July", "the fourth of July"),
    ("2nd-hand", "second-hand"),
    # times
    ("3:30 pm", "three thirty p m"),
    ("3:00", "three o'clock"),
    ("12:05", "twelve oh five"),
    ("15:00", "fifteen hundred"),
    ("3 pm", "three p m"),
    ("3 PM", "three p m"),
    ("at 3 p.m.", "at three p m."),
    ("at 7 a.m. today", "at seven a m today"),
    ("3.30 pm", "three thirty p m"),
    ("It's 5:30.", "It's five thirty."),
    # thousands separators and plain integers
    ("1,234,567", "one million two hundred thirty-four thousand five hundred sixty-seven"),
    ("123", "one hundred twenty-three"),
    ("0", "zero"),
    ("007", "zero zero seven"),
    ("version 2", "version two"),
    (
        "12345678901234567",
        "one two three four five six seven eight nine zero one two three four five six seven",
    ),
    # negatives
    ("-5", "minus five"),
    ("-3.5", "minus three point five"),
    ("from -5 to 5", "from minus five to five"),
    # ranges
    ("1990-1995", "nineteen ninety to nineteen ninety-five"),
    ("5-10", "five to ten"),
    ("5–10", "five to ten"),
    ("pages 5 - 10", "pages five to ten"),
    ("5-10%", "five to ten percent"),
    ("3:30-4:30", "three thirty to four thirty"),
    # number sign
    ("No. 5", "number five"),
    ("no. 5", "number five"),
    ("#1 hit", "number one hit"),
    # fractions
    ("1/2", "one half"),
    ("3/4", "three quarters"),
    ("2/3", "two thirds"),
    ("5/8", "five eighths"),
    ("1 1/2 cups", "one and one half cups"),
    ("1½", "one and one half"),
    ("24/7", "twenty-four seven"),
    # units
    ("1 km", "one kilometer"),
    ("5 km", "five kilometers"),
    ("5.5km", "five point five kilometers"),
    ("1.0 km", "one point zero kilometers"),
    ("10,000 km", "ten thousand kilometers"),
    ("2 m", "two meters"),
    ("3 cm", "three centimeters"),
    ("4 mm", "four millimeters"),
    ("1 kg", "one kilogram"),
    ("5 g", "five grams"),
    ("20 mg", "twenty milligrams"),
    ("1 lb", "one pound"),
    ("3 lbs", "three pounds"),
    ("8 oz", "eight ounces"),
    ("60 mph", "sixty miles per hour"),
    ("100 km/h", "one hundred kilometers per hour"),
    ("6 ft", "six feet"),
    ("1 ft", "one foot"),
    ("20°C", "twenty degrees celsius"),
    ("1°F", "one degree fahrenheit"),
    ("90°", "ninety degrees"),
    ("-5°C", "minus five degrees celsius"),
    ("10-15 km", "ten to fifteen kilometers"),
    # digits glued to letters
    ("MP3", "MP three"),
    ("COVID-19", "COVID-nineteen"),
    ("5-year-old", "five-year-old"),
    # left alone
    ("well-known", "well-known"),
    ("No. Not now", "No. Not now"),
    ("Ft. Worth", "Ft. Worth"),
    ("3 gallons", "three gallons"),
    ("I am here", "I am here"),
    ("Dr. Smith, Jr.", "Dr. Smith, Jr."),
    ("", ""),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[text or "empty" for text, _ in CASES])
def test_normalize_numbers(text, expected):
    assert normalize_numbers(text) == expected


def test_there_are_at_least_60_cases():
    assert len(CASES) >= 60


def test_idempotent_on_its_own_output():
    for text, expected in CASES:
        assert normalize_numbers(expected) == expected, text


def test_no_digits_survive():
    text = "On 3/4/2021 at 10:45, 12 of 1,000 items (3.5%) cost $9.99 - up 2.5x."
    assert not any(character.isdigit() for character in normalize_numbers(text))
