#!/usr/bin/env bash
# WorkerPool hand-off cost: jobs/s and ns/job for empty jobs, beside Dispatch and
# thread-per-job, medians of several runs. Usage: scripts/pool-bench.sh [jobs [runs]]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/install-deps.sh
swift build -c release --product carriage-pool-bench
exec .build/release/carriage-pool-bench "$@"
