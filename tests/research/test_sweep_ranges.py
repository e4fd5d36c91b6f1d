"""The sweep's range syntax: values, inclusive ranges, lists, and one-line errors."""

from __future__ import annotations

import pytest

from tradebot.research.ranges import (
    RangeError,
    parse_choices,
    parse_floats,
    parse_ints,
    values_from_json,
)


def test_a_range_includes_its_stop_despite_float_noise():
    assert parse_floats("--lower", "0.1:0.3:0.1") == [0.1, 0.2, 0.3]
    assert parse_floats("--lower", "90000:100000:2500") == [90000, 92500, 95000, 97500, 100000]


def test_a_range_stops_before_a_stop_that_is_not_on_a_step():
    assert parse_floats("--upper", "1:2:0.4") == [1.0, 1.4, 1.8]


def test_lists_and_ranges_mix_and_duplicates_drop_in_order():
    assert parse_ints("--lines", "20:60:20, 100, 40") == [20, 40, 60, 100]
    assert parse_floats("--lower", "95000") == [95000.0]


def test_choices_are_checked_and_lowercased():
    assert parse_choices("--spacing", "Geometric,arithmetic", ("arithmetic", "geometric")) == [
        "geometric",
        "arithmetic",
    ]
    with pytest.raises(RangeError, match=r"^--spacing: unknown value 'log'"):
        parse_choices("--spacing", "log", ("arithmetic", "geometric"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("abc", r"^--lower: 'abc' is not a number"),
        ("1:2", r"^--lower: bad range '1:2' \(use START:STOP:STEP\)"),
        ("1:2:3:4", r"^--lower: bad range"),
        ("5:1:1", r"^--lower: range '5:1:1' runs backwards"),
        ("1:5:0", r"^--lower: range step must be > 0"),
        ("1:5:-1", r"^--lower: range step must be > 0"),
        ("1,,2", r"^--lower: empty value"),
        ("", r"^--lower: empty value"),
        ("nan", r"^--lower: 'nan' is not a finite number"),
        ("1:1000000:1", r"^--lower: range '1:1000000:1' has 1000000 values"),
    ],
)
def test_bad_range_text_is_one_line_naming_the_option(text, message):
    with pytest.raises(RangeError, match=message) as caught:
        parse_floats("--lower", text)
    assert "\n" not in str(caught.value)


def test_line_counts_must_be_whole():
    with pytest.raises(RangeError, match=r"^--lines: 2.5 is not a whole number"):
        parse_ints("--lines", "2:3:0.5")


def test_json_values_can_be_a_number_a_list_or_a_range_string():
    assert values_from_json("lines", 20, parse_ints) == [20]
    assert values_from_json("lines", [10, 30], parse_ints) == [10, 30]
    assert values_from_json("lower", "1:3:1", parse_floats) == [1.0, 2.0, 3.0]
    for bad in (True, [], {"a": 1}, [None]):
        with pytest.raises(RangeError, match=r"^lines: "):
            values_from_json("lines", bad, parse_ints)
