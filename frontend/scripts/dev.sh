#!/usr/bin/env bash
# The portal's part of `make dev`: the local OIDC provider and the Vite dev server (which
# forwards /api to API_PROXY_TARGET). The API, the worker, the databases and the exchange
# simulator are started by the Makefile; the API must trust this provider:
#   AUTH0_ISSUER=http://127.0.0.1:$OIDC_PORT/  AUTH0_AUDIENCE=$OIDC_AUDIENCE
# Settings (defaults): OIDC_PORT (4010), OIDC_CLIENT_ID (tradebot-portal),
# OIDC_AUDIENCE (https://api.tradebot.local), OIDC_USERS (demo@tradebot.local:demo),
# PORTAL_PORT (5173), API_PROXY_TARGET (http://127.0.0.1:8000).
# To use a real Auth0 tenant instead, skip the provider: put its VITE_OIDC_* values in
# .env.local (see .env.example) and start only `npm run dev`.
set -euo pipefail
cd "$(dirname "$0")/.."

export OIDC_PORT="${OIDC_PORT:-4010}"
export OIDC_CLIENT_ID="${OIDC_CLIENT_ID:-tradebot-portal}"
export OIDC_AUDIENCE="${OIDC_AUDIENCE:-https://api.tradebot.local}"
export OIDC_USERS="${OIDC_USERS:-demo@tradebot.local:demo}"
PORTAL_PORT="${PORTAL_PORT:-5173}"
export OIDC_REDIRECT_URIS="${OIDC_REDIRECT_URIS:-http://127.0.0.1:${PORTAL_PORT}/callback,http://localhost:${PORTAL_PORT}/callback}"
export API_PROXY_TARGET="${API_PROXY_TARGET:-http://127.0.0.1:8000}"
export VITE_OIDC_ISSUER="http://127.0.0.1:${OIDC_PORT}/"
export VITE_OIDC_CLIENT_ID="$OIDC_CLIENT_ID"
export VITE_OIDC_AUDIENCE="$OIDC_AUDIENCE"

[ -d node_modules ] || npm ci --no-audit --no-fund

node dev/oidc.mjs &
OIDC_PID=$!
trap 'kill "$OIDC_PID" 2>/dev/null || true' EXIT INT TERM

echo "portal: http://127.0.0.1:${PORTAL_PORT}/  (sign in as ${OIDC_USERS%%,*}; email:password)"
npx vite --port "$PORTAL_PORT" --strictPort
