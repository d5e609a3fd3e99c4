#!/usr/bin/env bash
# Fuzzes the protocols with libFuzzer: builds the fuzz targets with -sanitize=fuzzer,address
# (into .build-fuzz/) and runs each for SECONDS (default 60) against a real Store.
#
#   scripts/fuzz.sh [SECONDS] [memcached|line-protocol|authentication ...]
#
# Targets (Sources/Fuzz*/): memcached (its text and meta commands, data blocks, the
# too-large path, with input arriving in chunks as from a socket), line-protocol
# (framing and every command) and authentication (the --auth-file login of both
# protocols, then the ordinary path). Seeds: Fuzz/corpus/<target>/ (kept in git; what a run
# finds goes to a scratch corpus, not there), token dictionaries Fuzz/<target>.dict.
# A crash leaves its input in fuzz-results/<target>-crash-*; turn it into a regression
# test (Tests/CarriageProtocolTests) and keep it in the corpus. Exit status 1 if any
# target crashed.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
[[ "$seconds" =~ ^[1-9][0-9]*$ ]] || { echo "fuzz: SECONDS must be a positive integer" >&2; exit 2; }
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(memcached line-protocol authentication)

flags=(-c release --scratch-path .build-fuzz
       -Xswiftc -D -Xswiftc FUZZING -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
       # ld.gold fails on the sanitized objects (an internal error in its DWARF reader).
       -Xswiftc -Xclang-linker -Xswiftc -fuse-ld=lld)
for target in "${targets[@]}"; do
    [ -d "Fuzz/corpus/$target" ] || { echo "fuzz: unknown target '$target' (memcached, line-protocol, authentication)" >&2; exit 2; }
    echo "fuzz: building fuzz-$target" >&2
    swift build "${flags[@]}" --product "fuzz-$target" >&2
done
bin="$(swift build "${flags[@]}" --show-bin-path)"

mkdir -p fuzz-results
status=0
for target in "${targets[@]}"; do
    scratch="$(mktemp -d "${TMPDIR:-/tmp}/fuzz-$target.XXXXXX")"
    echo "fuzz: $target for $seconds s" >&2
    if "$bin/fuzz-$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 \
        -dict="Fuzz/$target.dict" -artifact_prefix="fuzz-results/$target-" -print_final_stats=1 \
        "$scratch" "Fuzz/corpus/$target" >"fuzz-results/$target.log" 2>&1; then
        runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "fuzz-results/$target.log")"
        echo "fuzz: $target: no crash in $seconds s ($runs inputs)"
    else
        status=1
        echo "fuzz: $target: CRASH; see fuzz-results/$target.log and fuzz-results/$target-*" >&2
        tail -30 "fuzz-results/$target.log" >&2
    fi
    rm -rf "$scratch"
done
exit $status
