#!/usr/bin/env bash
# Build the dashboard into src/servicekpi/server/static/ (committed; see docs/dashboard.md).
# Needs Node 20+ and the npm registry; running the server does not.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
npm run build
