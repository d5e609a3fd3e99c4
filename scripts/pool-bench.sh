#!/usr/bin/env bash
# WorkerPool beside NIOThreadPool, a concurrent DispatchQueue, OperationQueue and a
# textbook mutex + condition variable pool (the Benchmarks/ package, release build): five
# scenarios at W = 2 and 4 workers, one process per measurement, pools interleaved, 3
# rounds; medians, same-round ratios (peer / WorkerPool), voluntary context switches and
# CPU per 1,000 jobs. About 4 minutes; --quick is a one-round smoke run of ~30 s. Every
# single figure also goes to standard error as a "raw" line (round, scenario, W, pool,
# value, context switches, CPU, most jobs at once, share of CPU the host stole); a figure
# the host stole over 10 % from is measured again (its line says "stolen").
#
#   scripts/pool-bench.sh [--quick] [--rounds N] [--workers 2,4] [--capacity 1024]
#                         [--peers workerpool,nio,dispatch,...] [--scenarios one-producer,...]
#
# Builds and benchmarks share the cores: run nothing else meanwhile.
set -euo pipefail
cd "$(dirname "$0")/../Benchmarks"
source ../scripts/lib/install-deps.sh
swift build -c release --product pool-compare >&2
exec .build/release/pool-compare "$@"
