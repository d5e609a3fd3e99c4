#!/usr/bin/env bash
# Builds carriaged (release) and runs it in the foreground, on 127.0.0.1:8000 unless
# flags say otherwise: scripts/run.sh [carriaged flags...], e.g. --port 9000 --workers 4.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/install-deps.sh
swift build -c release --product carriaged
exec .build/release/carriaged "$@"
