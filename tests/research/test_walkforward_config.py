"""Bad walk-forward configs: one line that names the field, before any stage runs."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tradebot.candles.io import bundled, load_candles
from tradebot.candles.model import Candles
from tradebot.research.walkforward import prepare
from tradebot.research.walkforward_config import (
    WalkForwardConfigError,
    load_config,
    parse_config,
)

GOOD_STAGE = {"in_sample": {"days": 1}, "out_of_sample": {"days": 1}}
SETTINGS = {"GRID_LOWER": 94000, "GRID_UPPER": 100000, "GRID_STEPS": 12, "GRID_INVESTMENT": 1000}


@cache
def three_days() -> Candles:
    return load_candles(bundled()).first_days(3)


def _check(data: Any) -> None:
    prepare(parse_config(data, source="wf.json", base_dir=Path()), three_days())


def _with_stage(**stage: Any) -> dict[str, Any]:
    return {"settings": SETTINGS, "stages": [{**GOOD_STAGE, **stage}]}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], r"^wf\.json: config: expected an object"),
        ({"stages": []}, r"^wf\.json: stages: expected a non-empty list"),
        ({"stages": [GOOD_STAGE], "stagse": 1}, r"^wf\.json: stagse: unknown key \(known: "),
        (_with_stage(windows=1), r"^wf\.json: stages\[0\]\.windows: unknown key"),
        (
            {"stages": [{"in_sample": {"days": 1}}]},
            r"^wf\.json: stages\[0\]\.out_of_sample: missing",
        ),
        (
            _with_stage(in_sample={"days": -1}),
            r"^wf\.json: stages\[0\]\.in_sample\.days: must be a number",
        ),
        (
            _with_stage(in_sample={"days": True}),
            r"^wf\.json: stages\[0\]\.in_sample\.days: must be a number",
        ),
        (
            _with_stage(in_sample={"start": "2024-12-01"}),
            r"^wf\.json: stages\[0\]\.in_sample: give start and end, start and days",
        ),
        (
            _with_stage(in_sample={"start": "2024-12-01", "end": "2024-12-02", "days": 1}),
            r"^wf\.json: stages\[0\]\.in_sample: give start and end",
        ),
        (
            _with_stage(in_sample={"start": "1st of December", "days": 1}),
            r"^wf\.json: stages\[0\]\.in_sample\.start: '1st of December' is not an ISO date",
        ),
        (
            _with_stage(in_sample={"start": "2024-12-02", "end": "2024-12-01"}),
            r"^wf\.json: stages\[0\]\.in_sample\.end: must be after start",
        ),
        (_with_stage(in_sample={"day": 1}), r"^wf\.json: stages\[0\]\.in_sample\.day: unknown key"),
        (
            _with_stage(settings={"GRID_STEPZ": 5}),
            r"^wf\.json: stages\[0\]\.settings\.GRID_STEPZ: unknown",
        ),
        (
            _with_stage(settings={"GRID_STEPS": 1}),
            r"^wf\.json: stages\[0\]\.settings\.GRID_STEPS: ",
        ),
        (
            {"settings": {"MAKER_FEE": -1}, "stages": [GOOD_STAGE]},
            r"^wf\.json: settings\.MAKER_FEE: ",
        ),
        (
            _with_stage(settings={"GRID_LOWER": 101000}),
            r"^wf\.json: stages\[0\]: lower \(101000.0\) must be below upper",
        ),
        (
            _with_stage(settings={"GRID_PAIR": "DOGE/EUR"}),
            r"^wf\.json: stages\[0\]\.settings\.GRID_PAIR: unknown pair 'DOGE/EUR'",
        ),
        (
            _with_stage(sweep={"lower": "1:2"}),
            r"^wf\.json: stages\[0\]\.sweep\.lower: bad range '1:2'",
        ),
        (
            _with_stage(sweep={"metric": "luck"}),
            r"^wf\.json: stages\[0\]\.sweep\.metric: unknown metric",
        ),
        (
            _with_stage(sweep={"spacing": ["log"]}),
            r"^wf\.json: stages\[0\]\.sweep\.spacing: unknown value",
        ),
        (_with_stage(sweep={"steps": [5]}), r"^wf\.json: stages\[0\]\.sweep\.steps: unknown key"),
        (
            _with_stage(sweep={"lower": [99000, 99500]}),
            r"^wf\.json: stages\[0\]: none of the 2 combinations is a valid grid",
        ),
        ({"exact": "yes", "stages": [GOOD_STAGE]}, r"^wf\.json: exact: expected true or false"),
        ({"candles": 5, "stages": [GOOD_STAGE]}, r"^wf\.json: candles: expected a file path"),
    ],
)
def test_bad_field_is_named_in_one_line(data, message):
    with pytest.raises(WalkForwardConfigError, match=message) as caught:
        _check(data)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("stages", "message"),
    [
        (
            [{"in_sample": {"start": "2024-11-30", "days": 2}, "out_of_sample": {"days": 1}}],
            r"^wf\.json: stages\[0\]\.in_sample starts 2024-11-30T00:00Z, before the first candle",
        ),
        (
            [{"in_sample": {"days": 2}, "out_of_sample": {"days": 2}}],
            r"^wf\.json: stages\[0\]\.out_of_sample ends 2024-12-05T00:00Z, after the candles end "
            r"\(2024-12-04T00:00Z\)",
        ),
        (
            [{"in_sample": {"days": 2}, "out_of_sample": {"start": "2024-12-02T12:00", "days": 1}}],
            r"^wf\.json: stages\[0\]\.out_of_sample starts 2024-12-02T12:00Z, inside the in-sample",
        ),
        (
            [GOOD_STAGE, {"in_sample": {"days": 3}, "out_of_sample": {"days": 1}}],
            r"^wf\.json: stages\[1\]\.in_sample starts 2024-11-30T00:00Z, before the first candle",
        ),
    ],
)
def test_windows_outside_the_candles_are_refused(stages, message):
    with pytest.raises(WalkForwardConfigError, match=message):
        _check({"settings": SETTINGS, "stages": stages})


def test_a_file_problem_starts_with_the_files_name(tmp_path):
    missing = tmp_path / "nope.json"
    with pytest.raises(WalkForwardConfigError, match=r"nope\.json: no such walk-forward config"):
        load_config(missing)
    broken = tmp_path / "broken.json"
    broken.write_text('{"stages": [', encoding="utf-8")
    with pytest.raises(WalkForwardConfigError, match=r"broken\.json: not valid JSON \(.* line 1"):
        load_config(broken)
    unknown = tmp_path / "unknown.json"
    unknown.write_text(
        json.dumps({"stages": [{**GOOD_STAGE, "sweep": {"x": 1}}]}), encoding="utf-8"
    )
    with pytest.raises(
        WalkForwardConfigError, match=r"unknown\.json: stages\[0\]\.sweep\.x: unknown"
    ):
        load_config(unknown)


def test_relative_candle_paths_are_read_beside_the_config(tmp_path):
    path = tmp_path / "wf.json"
    path.write_text(
        json.dumps({"candles": "data/week.csv.gz", "stages": [GOOD_STAGE]}), encoding="utf-8"
    )
    assert load_config(path).candles == tmp_path / "data" / "week.csv.gz"


def test_the_shipped_example_config_is_valid():
    config = load_config(Path(__file__).parents[2] / "configs" / "walkforward.json")
    stages = prepare(config, load_candles(bundled()))
    assert len(stages) == 4
    assert stages[-1].out_window.end_ms == int(load_candles(bundled()).ts[-1]) + 60_000
