"""``tradebot exchange-sim`` as a process: it serves on its port until stopped."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request

from tests.venues.sim_fixtures import demo_week
from tradebot.cli.main import main


def test_the_exchange_sim_command_serves_a_sandbox_until_stopped(tmp_path):
    candles = tmp_path / "day.csv"
    from tradebot.candles.io import save_csv

    save_csv(demo_week().slice(0, 60), candles)
    keys = tmp_path / "keys.json"
    keys.write_text(
        json.dumps([{"api_key": "demo", "secret": "demo-secret", "balances": {"USDT": 1000}}])
    )
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tradebot.cli.main",
            "exchange-sim",
            "--candles",
            str(candles),
            "--port",
            "0",
            "--speed",
            "0",
            "--keys",
            str(keys),
            "--fill-share",
            "0.25",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        assert line.startswith("exchange simulator on http://127.0.0.1:"), line
        url = line.split()[3]
        with urllib.request.urlopen(url + "/api/v3/ticker/price?symbol=BTCUSDT") as response:
            price = json.load(response)
        assert float(price["price"]) == demo_week().open[0]
        with urllib.request.urlopen(url + "/_sim/state") as response:
            assert json.load(response)["market"]["fill_share"] == 0.25
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_bad_keys_file_is_one_error_line(tmp_path, capsys):
    keys = tmp_path / "keys.json"
    keys.write_text('[{"api_key": "no-secret"}]')
    assert main(["exchange-sim", "--keys", str(keys)]) == 2
    assert capsys.readouterr().err == f"tradebot: error: {keys}: account without 'secret'\n"


def test_a_limit_that_is_not_positive_is_one_error_line_before_anything_starts(capsys):
    assert main(["exchange-sim", "--connection-limit", "0"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # no sandbox account was made
    assert captured.err == (
        "tradebot: error: the simulator's connections_per_window must be > 0 (got 0)\n"
    )
