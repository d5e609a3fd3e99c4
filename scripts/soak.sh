#!/usr/bin/env bash
# Soak: one carriaged under everything at once for M minutes, with faults, checking that
# nothing is lost and nothing grows.
#
#   scripts/soak.sh [--minutes M] [--sample S]
#
#   --minutes M   how long the load runs (default 1; decimals allowed)
#   --sample S    seconds between samples of the daemon's RSS, descriptors and threads
#                 (default 10)
#
# At once, against one daemon (release build, --max-connections 2100, --request-timeout 5,
# --max-client-memory 32MiB, --snapshot every 10 s):
#   - carriage-load: 30 request/response connections (90% GET / 10% SET over 10,000
#     keys, every value checked), 8 pipelining connections (16 in flight), 2,000 idle
#     connections, all held for the whole run;
#   - scripts/soak-clients.py: four ledger clients (two request/response and one
#     pipelining on the line protocol, one on memcached's), each counting its own INCRs,
#     which must match the server exactly, reply by reply and at the end; and hostile
#     clients: reset mid-line and mid-data-block, half-close, never read, trickle bytes
#     (closed by --request-timeout), connect beyond --max-connections (BUSY), garbage.
# Every S seconds it samples VmRSS, open descriptors and threads; after the first third of
# the run (the warm-up) each must stay within 5 % of its smallest value. At the end the
# daemon must answer PING and exit 0 on SIGTERM. Exit status 0 when every check held.
# Results (samples, JSON of both clients, daemon log) go to soak-results/soak-<date>/.
#
# Environment: CARRIAGE_BUILD_ARGS adds flags to `swift build`.
set -euo pipefail
cd "$(dirname "$0")/.."

minutes=1
sample=10
while [ $# -gt 0 ]; do
    case "$1" in
        --minutes) minutes="$2"; shift 2 ;;
        --sample) sample="$2"; shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "soak: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
seconds="$(awk -v m="$minutes" 'BEGIN { s = int(m * 60); if (s < 20) s = 20; print s }')"
[[ "$sample" =~ ^[1-9][0-9]*$ ]] || { echo "soak: --sample must be a positive integer" >&2; exit 2; }

idle=2000
max_connections=2100
request_timeout=5
# shellcheck disable=SC2086
swift build -c release ${CARRIAGE_BUILD_ARGS:-} --product carriaged >&2
# shellcheck disable=SC2086
swift build -c release ${CARRIAGE_BUILD_ARGS:-} --product carriage-load >&2
# shellcheck disable=SC2086
bin="$(swift build -c release ${CARRIAGE_BUILD_ARGS:-} --show-bin-path)"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

out="soak-results/soak-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$out"
daemon_pid=""
cleanup() { [ -n "$daemon_pid" ] && kill -9 "$daemon_pid" 2>/dev/null || true; }
trap cleanup EXIT

"$bin/carriaged" --port 0 --memcached-port 0 --max-connections "$max_connections" --idle-timeout 0 \
    --request-timeout "$request_timeout" --max-client-memory 32MiB \
    --snapshot "$out/store.snapshot" --snapshot-interval 10 2>"$out/daemon.log" &
daemon_pid=$!
for _ in $(seq 100); do grep -q "memcached protocol listening on" "$out/daemon.log" && break; sleep 0.1; done
port="$(sed -n 's/.* listening on [^ ]*:\([0-9]*\)$/\1/p' "$out/daemon.log" | head -1)"
mc_port="$(sed -n 's/.*memcached protocol listening on [^ ]*:\([0-9]*\)$/\1/p' "$out/daemon.log" | head -1)"
[ -n "$port" ] && [ -n "$mc_port" ] || { echo "soak: carriaged did not start:" >&2; cat "$out/daemon.log" >&2; exit 1; }
echo "soak: carriaged pid $daemon_pid on ports $port (line) and $mc_port (memcached), $seconds s" >&2

"$bin/carriage-load" --port "$port" --duration "$seconds" --connections 30 --idle "$idle" --keys 10000 \
    --request '90:GET %k' --request '10:SET %k %v' --json >"$out/load-mixed.json" 2>"$out/load-mixed.err" &
mixed=$!
"$bin/carriage-load" --port "$port" --duration "$seconds" --connections 8 --pipeline 16 \
    --request PING --json >"$out/load-pipelined.json" 2>"$out/load-pipelined.err" &
pipelined=$!
python3 scripts/soak-clients.py "$port" "$mc_port" "$seconds" "$max_connections" "$request_timeout" \
    >"$out/clients.json" 2>"$out/clients.err" &
clients=$!

# Samples: seconds, VmRSS KiB, descriptors, threads.
start=$(date +%s)
echo "seconds rss_kib fds threads" | tee "$out/samples.txt"
while kill -0 "$clients" 2>/dev/null || kill -0 "$mixed" 2>/dev/null; do
    sleep "$sample"
    # Samples while the load runs: at its end the connections it held go (the load
    # processes may still be closing them when a sample at the last second is taken).
    [ $(( $(date +%s) - start )) -lt $(( seconds - 1 )) ] || break
    kill -0 "$mixed" 2>/dev/null || break
    kill -0 "$daemon_pid" 2>/dev/null || break
    rss="$(awk '/^VmRSS:/ { print $2 }' "/proc/$daemon_pid/status")"
    fds="$(find "/proc/$daemon_pid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)"
    threads="$(find "/proc/$daemon_pid/task" -mindepth 1 -maxdepth 1 | wc -l)"
    echo "$(( $(date +%s) - start )) $rss $fds $threads" | tee -a "$out/samples.txt"
done

status=0
check() {  # $1 = what, $2 = 0 when it held
    if [ "$2" -eq 0 ]; then echo "soak: ok: $1"; else echo "soak: FAILED: $1"; status=1; fi
}
set +e
wait "$clients"; check "ledger and hostile clients ($(head -c 2000 "$out/clients.json"))" $?
wait "$mixed"; mixed_status=$?
wait "$pipelined"; pipelined_status=$?
set -e
for name in mixed pipelined; do
    errors="$(sed -n 's/.*"errors":\([0-9]*\).*/\1/p' "$out/load-$name.json")"
    requests="$(sed -n 's/.*"requests":\([0-9]*\).*/\1/p' "$out/load-$name.json")"
    idle_open="$(sed -n 's/.*"idle_open":\([0-9]*\).*/\1/p' "$out/load-$name.json")"
    [ "$name" = mixed ] && s=$mixed_status || s=$pipelined_status
    check "carriage-load $name: ${requests:-?} requests, ${errors:-?} errors, ${idle_open:-?} idle still open" \
        $(( s != 0 || ${errors:-1} != 0 ))
done
idle_open="$(sed -n 's/.*"idle_open":\([0-9]*\).*/\1/p' "$out/load-mixed.json")"
check "$idle idle connections held to the end (${idle_open:-?})" $(( ${idle_open:-0} != idle ))

# Flat after the warm-up (the first third): each column within 5 % of its smallest.
flat="$(awk -v warm=$(( seconds / 3 )) 'NR > 1 && $1 > warm {
        n++; for (c = 2; c <= 4; c++) { if (n == 1 || $c < lo[c]) lo[c] = $c; if (n == 1 || $c > hi[c]) hi[c] = $c } }
    END {
        if (n < 2) { print "fewer than 2 samples after the warm-up"; exit 1 }
        split("rss fds threads", name, " "); bad = 0
        for (c = 2; c <= 4; c++) {
            growth = (hi[c] - lo[c]) / lo[c] * 100
            printf "%s %d..%d (%.1f%%); ", name[c - 1], lo[c], hi[c], growth
            if (growth > 5) bad = 1
        }
        exit bad
    }' "$out/samples.txt")" && flat_status=0 || flat_status=1
check "flat after warm-up over $(( $(wc -l <"$out/samples.txt") - 1 )) samples: $flat" $flat_status

reply="$(printf 'PING\n' | nc -N -w 5 127.0.0.1 "$port" || true)"
[ "$reply" = "OK PONG" ] && ping_status=0 || ping_status=1
check "PING after the soak: '$reply'" $ping_status
kill -TERM "$daemon_pid"
set +e
timeout 60 tail --pid="$daemon_pid" -f /dev/null; wait "$daemon_pid"; exit_status=$?
set -e
daemon_pid=""
check "SIGTERM: exit status $exit_status" "$exit_status"
# What the daemon logged above info, each kind once with its count (timestamps and numbers cut).
grep -E " (warning|error|critical) " "$out/daemon.log" | sed 's/^[^ ]* //; s/[0-9][0-9]*/N/g' | sort | uniq -c | sort -rn | head -8 | sed 's/^/soak: log: /' || true
echo "soak: results in $out"
exit "$status"
