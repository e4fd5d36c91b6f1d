#!/usr/bin/env bash
# Everything `make test` needs of the portal on a fresh Debian machine: Chromium (for the
# browser end-to-end test in tests/portal), the locked dependencies, the API client's
# freshness, lint and the type check, the unit tests and the production build with its bundle budget.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/chromium ]; then
  echo "portal: installing Debian's chromium"
  SUDO=$([ "$(id -u)" -eq 0 ] && echo "" || echo "sudo")
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq chromium >/dev/null
fi

echo "portal: npm ci"
npm ci --no-audit --no-fund

echo "portal: check:api (openapi.json and the generated client match the API)"
npm run --silent check:api

echo "portal: lint and typecheck"
npm run --silent lint
npm run --silent typecheck

echo "portal: unit tests"
npm test --silent

echo "portal: build (+ initial JS budget)"
npm run --silent build
