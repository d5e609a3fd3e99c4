#!/usr/bin/env bash
# Runs every test: installs what is missing, builds, runs the whole suite, then the
# thread-heavy suites again under ThreadSanitizer. Non-zero exit on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/install-deps.sh || exit 1
carriage_install_test_deps
# Tests open thousands of sockets: take the whole open-file limit we may.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

passed=0
failed=0
skipped=0
status=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# run_suite NAME COMMAND...: runs one swift test invocation and adds up its counts.
run_suite() {
    local name=$1; shift
    echo "== $name: $*"
    local start=$SECONDS
    "$@" 2>&1 | tee "$log"
    local rc=${PIPESTATUS[0]}
    # XCTest's last "Executed N tests, with [K tests skipped and] M failures" line is the
    # run's total.
    local line
    line=$(grep -E "Executed [0-9]+ tests?, with ([0-9]+ tests? skipped and )?[0-9]+ failures?" "$log" | tail -n 1)
    local n m k
    n=$(echo "$line" | sed -nE 's/.*Executed ([0-9]+) tests?.*/\1/p')
    m=$(echo "$line" | sed -nE 's/.* ([0-9]+) failures?.*/\1/p')
    k=$(echo "$line" | sed -nE 's/.*with ([0-9]+) tests? skipped.*/\1/p')
    n=${n:-0}; m=${m:-0}; k=${k:-0}
    if [ "$rc" -ne 0 ] && [ "$m" -eq 0 ]; then m=1; fi   # a crash or build failure
    passed=$((passed + n - m - k)); failed=$((failed + m)); skipped=$((skipped + k))
    [ "$rc" -ne 0 ] && status=1
    echo "== $name: $((n - m - k)) passed, $m failed, $k skipped, exit $rc, $((SECONDS - start)) s"
}

run_suite "all tests" swift test --disable-swift-testing
# The server and every end-to-end test again with three loop threads (--loops 3).
CARRIAGE_TEST_LOOPS=3 run_suite "3 loops" swift test --disable-swift-testing --filter "CarriageServerTests|EndToEndTests"
# ThreadSanitizer: the pool, the store and the server end to end (the daemon the
# end-to-end tests start is then built with ThreadSanitizer too).
# CARRIAGE_TSAN: the --daemon tests skip themselves there (TSan does not support fork
# once its own threads run).
CARRIAGE_TSAN=1 run_suite "ThreadSanitizer" swift test --disable-swift-testing --scratch-path .build-tsan \
    --sanitize=thread --filter "${CARRIAGE_TSAN_FILTER:-WorkerPoolTests|CarriagePosixTests|CarriageStoreTests|CarriageProtocolTests|CarriageServerTests|EndToEndTests}"
CARRIAGE_TSAN=1 CARRIAGE_TEST_LOOPS=3 run_suite "ThreadSanitizer, 3 loops" swift test --disable-swift-testing \
    --scratch-path .build-tsan --sanitize=thread --filter "CarriageServerTests|EndToEndTests"

# Fuzzing, briefly (scripts/fuzz.sh runs longer): each target for 30 s (three targets: the
# whole run stays under 20 minutes).
echo "== fuzz: ${CARRIAGE_FUZZ_SECONDS:-30} s per target"
if scripts/fuzz.sh "${CARRIAGE_FUZZ_SECONDS:-30}"; then
    passed=$((passed + 1))
else
    failed=$((failed + 1)); status=1
fi

# The man pages and WorkerPool's DocC build, with every flag documented and no warning.
echo "== docs"
if scripts/docs.sh; then
    passed=$((passed + 1))
else
    failed=$((failed + 1)); status=1
fi

# The pool comparison (Benchmarks/, a package of its own), as a smoke run: it still
# builds against today's WorkerPool, and every pool runs every scenario once. A debug
# build, so its figures mean nothing here; scripts/pool-bench.sh measures.
echo "== pool-compare, quick"
pool_log=$(mktemp)
if (cd Benchmarks && swift build --product pool-compare && .build/debug/pool-compare --quick) > "$pool_log" 2>&1 \
    && grep -q "^## Same-round ratios" "$pool_log"; then
    passed=$((passed + 1))
else
    tail -n 40 "$pool_log"
    failed=$((failed + 1)); status=1
fi
rm -f "$pool_log"

# The soak, briefly (its long runs are in the issue notes): everything at once, with
# faults, for a minute; ledgers exact, RSS, descriptors and threads flat.
echo "== soak: ${CARRIAGE_SOAK_MINUTES:-1} minute(s)"
if scripts/soak.sh --minutes "${CARRIAGE_SOAK_MINUTES:-1}"; then
    passed=$((passed + 1))
else
    failed=$((failed + 1)); status=1
fi

echo "total: $passed passed, $failed failed, $skipped skipped"
exit $status
