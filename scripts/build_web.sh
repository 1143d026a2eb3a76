#!/usr/bin/env bash
# Builds the web console (console/, Vite + Preact from the npm registry)
# into console/dist/, which verityd serves at /console/ (docs/console.md).
# npm ci installs exactly the versions package-lock.json pins; nothing is
# fetched at run time (no CDN). Needs Node.js >= 20 and npm (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/../console"
npm ci --no-audit --no-fund --loglevel=error
npm run build --silent
echo "build_web.sh: built console/dist/" >&2
