#!/usr/bin/env bash
# `make dev`: the whole stack on this machine for a person to click through, on loopback only.
# PostgreSQL and Redis (as `make test` starts them), a database of its own (tradebot_dev,
# migrated), the exchange simulator as the sandbox exchange (play money, one account whose key
# is printed below), `tradebot api` and a worker pointed at it, the local OIDC provider with a
# demo user, and the portal's Vite dev server. Ctrl-C stops everything it started.
#
# Settings (defaults): DEV_DB (tradebot_dev), API_PORT (8000), SIM_PORT (8900), OIDC_PORT
# (4010), PORTAL_PORT (5173). Secrets for this stack (the master key, the sandbox key) are made
# once and kept in var/dev/ (git-ignored). To sign in with a real Auth0 tenant instead, see
# frontend/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=.venv/bin
DEV_DB="${DEV_DB:-tradebot_dev}"
export API_PORT="${API_PORT:-8000}"
SIM_PORT="${SIM_PORT:-8900}"
export OIDC_PORT="${OIDC_PORT:-4010}"
export PORTAL_PORT="${PORTAL_PORT:-5173}"
export OIDC_AUDIENCE="${OIDC_AUDIENCE:-https://api.tradebot.local}"
STATE=var/dev
mkdir -p "$STATE"

secret() { python3 -c 'import secrets; print(secrets.token_hex(16))'; }
[ -s "$STATE/master.key" ] || python3 -c \
  'import base64, os; print(base64.b64encode(os.urandom(32)).decode())' >"$STATE/master.key"
if [ ! -s "$STATE/keys.json" ]; then
  cat >"$STATE/keys.json" <<JSON
[{"api_key": "sandbox-$(secret)", "secret": "$(secret)",
  "balances": {"USDT": 10000.0, "BTC": 0.1},
  "permissions": {"enableReading": true, "enableSpotAndMarginTrading": true,
                  "enableWithdrawals": false}}]
JSON
fi

psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$DEV_DB'" |
  grep -q 1 || psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $DEV_DB"

export PG_URL="postgresql://postgres@127.0.0.1:5432/$DEV_DB"
export CLIENT_MASTER_KEY
CLIENT_MASTER_KEY=$(cat "$STATE/master.key")
export AUTH0_ISSUER="http://127.0.0.1:${OIDC_PORT}/"
export AUTH0_AUDIENCE="$OIDC_AUDIENCE"
export EXCHANGE_SANDBOX_URL="http://127.0.0.1:${SIM_PORT}"
export PUBLIC_APP_URL="http://127.0.0.1:${PORTAL_PORT}"
export REDIS_PREFIX="tradebot-dev"
export RUN_QUEUE_NAME="tradebot-dev:queue"
export API_PROXY_TARGET="http://127.0.0.1:${API_PORT}"

pids=()
stop() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap stop EXIT INT TERM

$BIN/tradebot exchange-sim --port "$SIM_PORT" --keys "$STATE/keys.json" &
pids+=($!)
$BIN/tradebot api --port "$API_PORT" --migrate --sandbox-url "$EXCHANGE_SANDBOX_URL" &
pids+=($!)
$BIN/tradebot worker --sandbox-url "$EXCHANGE_SANDBOX_URL" &
pids+=($!)

python3 - "$STATE/keys.json" <<'PY'
import json, sys
account = json.load(open(sys.argv[1]))[0]
print("dev: sandbox exchange key to paste in the portal (play money):")
print(f"     API key {account['api_key']}  secret {account['secret']}")
PY
echo "dev: API http://127.0.0.1:${API_PORT}/docs  exchange simulator http://127.0.0.1:${SIM_PORT}"
bash frontend/scripts/dev.sh
