"""``tradebot candles fetch | validate | convert``: outputs, the cache, and one-line errors."""

from __future__ import annotations

import json

import pytest

from tests.venues.sim_fixtures import SimThread, demo_week, sim_config
from tradebot.candles.io import bundled, load_candles, save_csv
from tradebot.cli.main import main

DAY = demo_week().slice(0, 1440)  # 2024-12-01


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "var"))
    return tmp_path


@pytest.fixture(scope="module")
def sandbox():
    with SimThread(sim_config(DAY, start_index=len(DAY))) as running:
        yield running


def _error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("tradebot: error: ")
    return err[0]


def _fetch(sandbox, *flags: str) -> list[str]:
    return [
        "candles",
        "fetch",
        "--pair",
        "BTC/USDT",
        "--since",
        "2024-12-01T02:00",
        "--until",
        "2024-12-01T20:00",
        "--sandbox-url",
        sandbox.url,
        "--quiet",
        *flags,
    ]


@pytest.mark.parametrize("name", ["out.csv", "out.csv.gz", "out.parquet", "out.json"])
def test_fetch_writes_the_candles_in_the_format_of_the_out_extension(
    workdir, sandbox, capsys, name
):
    assert main(_fetch(sandbox, "--out", name)) == 0
    written = load_candles(workdir / name)
    want = DAY.slice(120, 1200)
    assert written.ts.tolist() == want.ts.tolist()
    assert written.close.tolist() == want.close.tolist()
    out = capsys.readouterr().out
    assert "1080 candles of BTC/USDT 1m" in out
    assert "gaps: 0" in out
    assert f"wrote {name}" in out


def test_a_second_fetch_of_the_same_range_makes_no_klines_request(workdir, sandbox, capsys):
    assert main(_fetch(sandbox)) == 0
    asked = sandbox.call(lambda sim: sim.requests["GET /api/v3/klines"])
    assert main(_fetch(sandbox)) == 0
    assert sandbox.call(lambda sim: sim.requests["GET /api/v3/klines"]) == asked
    assert "(all from the cache)" in capsys.readouterr().out
    assert list(
        (workdir / "var" / "cache" / "candles").glob("binance-sandbox-*/BTC-USDT_1m.parquet")
    )


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--pair", "DOGE/EUR"], "DOGE/EUR is not a pair on binance"),
        (["--exchange", "binanse"], "unknown exchange 'binanse'"),
        (["--since", "yesterday"], "--since: not a date or time: 'yesterday'"),
        (["--until", "2024-11-30"], "--until must be after --since"),
        (["--timeframe", "7m"], "unknown timeframe '7m'"),
        (["--out", "candles.xlsx"], "candles.xlsx: unknown candle format"),
    ],
)
def test_fetch_bad_input_is_one_error_line_and_writes_nothing(
    workdir, sandbox, capsys, flags, message
):
    assert main([*_fetch(sandbox), *flags]) == 2
    assert message in _error_line(capsys)
    assert not list(workdir.glob("candles.*"))


def test_fetch_from_an_exchange_that_does_not_answer_is_one_error_line(workdir, capsys):
    flags = [
        "candles",
        "fetch",
        "--pair",
        "BTC/USDT",
        "--since",
        "2024-12-01",
        "--until",
        "2024-12-02",
        "--sandbox-url",
        "http://127.0.0.1:9",
        "--retries",
        "1",
        "--quiet",
    ]
    assert main(flags) == 2
    assert "loading markets failed" in _error_line(capsys)


def test_validate_prints_the_report_of_a_good_file(capsys):
    assert main(["candles", "validate", str(bundled())]) == 0
    out = capsys.readouterr().out
    assert "rows: 10080, timeframe: 1m" in out
    assert "gaps: 0 (0 candles missing, not filled)" in out


def test_validate_lists_gaps_and_fails_on_a_fatal_problem(tmp_path, capsys):
    holed = tmp_path / "holed.csv"
    rows = ["timestamp,open,high,low,close,volume"]
    for ts in (0, 60_000, 240_000, 300_000):
        rows.append(f"{1_733_011_200_000 + ts},10,11,9,10,1")
    holed.write_text("\n".join(rows) + "\n")
    assert main(["candles", "validate", str(holed)]) == 0
    out = capsys.readouterr().out
    assert "gaps: 1 (2 candles missing, not filled)" in out
    assert "2 missing after 2024-12-01 00:01, before 2024-12-01 00:04" in out

    broken = tmp_path / "broken.csv"
    broken.write_text(rows[0] + "\n" + rows[1] + "\n" + rows[1].replace(",11,9,", ",8,9,") + "\n")
    assert main(["candles", "validate", str(broken)]) == 2
    assert "duplicate timestamps" in _error_line(capsys)


def test_convert_rewrites_a_file_in_another_format(tmp_path, capsys):
    source = tmp_path / "day.csv.gz"
    save_csv(DAY, source)
    target = tmp_path / "day.json"
    assert main(["candles", "convert", str(source), str(target)]) == 0
    rows = json.loads(target.read_text())
    assert len(rows) == 1440
    assert rows[0] == {
        "timestamp": int(DAY.ts[0]),
        "open": DAY.open[0],
        "high": DAY.high[0],
        "low": DAY.low[0],
        "close": DAY.close[0],
        "volume": DAY.volume[0],
    }
    back = tmp_path / "back.csv"
    assert main(["candles", "convert", str(target), str(back)]) == 0
    assert load_candles(back).close.tolist() == DAY.close.tolist()


def test_convert_refuses_an_unknown_format_and_a_missing_file(tmp_path, capsys):
    assert main(["candles", "convert", str(bundled()), str(tmp_path / "x.xlsx")]) == 2
    assert "unknown candle format" in _error_line(capsys)
    assert main(["candles", "convert", str(tmp_path / "none.csv"), str(tmp_path / "x.csv")]) == 2
    assert "no such candle file" in _error_line(capsys)
    assert not (tmp_path / "x.csv").exists()
