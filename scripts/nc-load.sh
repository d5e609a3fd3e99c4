#!/usr/bin/env bash
# Scripted nc clients against carriaged: N concurrent `nc -N` clients, each sending a
# request file or a generated mix (PING, ECHO, CAP, SET/GET/DEL, INCR on a shared key),
# every reply checked against the protocol (README.md), then a check that the shared
# counter every client incremented holds exactly the total.
#
#   scripts/nc-load.sh [--clients N] [--host H] [--port P] [--rounds R] [--file F]
#
#   --clients N   concurrent nc clients (default 50)
#   --host H      server host (default 127.0.0.1)
#   --port P      server port; without it, the script builds carriaged
#                 (swift build --product carriaged), starts it on a free port
#                 (--port 0, port read from its `listening on` line), and stops it
#                 with SIGTERM at the end
#   --rounds R    rounds of the generated mix per client (default 4; 8 requests and one
#                 INCR of the shared counter per round)
#   --file F      send F's lines instead of the generated mix (then R INCRs of the
#                 counter). A line may be `REQUEST<TAB>=EXACT REPLY` or
#                 `REQUEST<TAB>~REGEX`; otherwise the reply is checked by verb.
#
# Environment: CARRIAGED=/path/to/carriaged uses that binary instead of building one;
# CARRIAGE_BUILD_ARGS adds flags to the swift build (e.g. --scratch-path .build-x).
#
# Output: per-client failures on stderr, then a line with requests and seconds and the
# closing line `nc-load: N passed, N failed` (N clients plus the counter check).
# Exit status: 0 when every reply was right, 1 when any was wrong or missing, 2 for a
# usage or start-up error.
set -euo pipefail

clients=50
host=127.0.0.1
port=""
rounds=4
file=""

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
die() { echo "nc-load: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
    case "$1" in
        --clients) clients="${2:-}"; shift 2 ;;
        --host) host="${2:-}"; shift 2 ;;
        --port) port="${2:-}"; shift 2 ;;
        --rounds) rounds="${2:-}"; shift 2 ;;
        --file) file="${2:-}"; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
done
[[ "$clients" =~ ^[1-9][0-9]*$ ]] || die "--clients must be a positive integer"
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || die "--rounds must be a positive integer"
[ -z "$port" ] || [[ "$port" =~ ^[1-9][0-9]*$ ]] || die "--port must be a port number"
[ -z "$file" ] || [ -r "$file" ] || die "cannot read --file '$file'"
nc -h 2>&1 | grep -q -- ' -N' || nc -h 2>&1 | grep -q 'OpenBSD' \
    || die "needs OpenBSD netcat (nc -N): apt-get install -y netcat-openbsd"

root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/nc-load.XXXXXX")"
daemon_pid=""

cleanup() {
    if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
        kill -TERM "$daemon_pid" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$daemon_pid" 2>/dev/null || true
        wait "$daemon_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the daemon, when no port was given -------------------------------------------
if [ -z "$port" ]; then
    bin="${CARRIAGED:-}"
    if [ -z "$bin" ]; then
        # shellcheck disable=SC2086
        (cd "$root" && swift build --product carriaged ${CARRIAGE_BUILD_ARGS:-} >"$work/build.log" 2>&1) \
            || { tail -20 "$work/build.log" >&2; die "swift build --product carriaged failed"; }
        # shellcheck disable=SC2086
        bin="$(cd "$root" && swift build --show-bin-path ${CARRIAGE_BUILD_ARGS:-})/carriaged"
    fi
    [ -x "$bin" ] || die "no carriaged binary at $bin"
    "$bin" --host "$host" --port 0 2>"$work/daemon.log" &
    daemon_pid=$!
    for _ in $(seq 1 300); do
        port="$(grep -o 'listening on [^ ]*' "$work/daemon.log" 2>/dev/null | head -1 | sed 's/.*://')" || true
        [ -n "$port" ] && break
        kill -0 "$daemon_pid" 2>/dev/null || { cat "$work/daemon.log" >&2; die "carriaged exited before listening"; }
        sleep 0.1
    done
    [ -n "$port" ] || { cat "$work/daemon.log" >&2; die "carriaged printed no 'listening on' line in 30 s"; }
fi

# --- requests and expected replies ---------------------------------------------------
# A unique prefix per run, so runs against a shared server never collide.
run_id="nc-load:$(date +%s):$$:$RANDOM"
counter="$run_id:counter"

# Expected replies: `=TEXT` is the exact reply line, `~REGEX` an extended regex, and
# `*STATS` a STATS block (`STAT` lines, then `END`).
# Derives the expectation of a request line by its verb (see Sources/CarriageProtocol/CarriageProtocol.docc/LineProtocol.md).
expect_awk='
function cap(s) { return toupper(substr(s, 1, 1)) tolower(substr(s, 2)) }
{
    line = $0; sub(/\r$/, "", line)
    if (index(line, "\t") > 0) { print substr(line, index(line, "\t") + 1); next }
    verb = line; rest = ""; has = 0
    if (index(line, " ") > 0) { verb = substr(line, 1, index(line, " ") - 1); rest = substr(line, index(line, " ") + 1); has = 1 }
    verb = toupper(verb)
    if (verb == "PING") print "=OK PONG"
    else if (verb == "ECHO") print (has && rest != "" ? "=OK " rest : "~^OK ?$")
    else if (verb == "CAP") {
        if (!has || rest == "") print "~^OK ?$"
        else if (rest ~ /[^ -~]/) print "~^OK( |$)"   # non-ASCII: Unicode rules, status only
        else print "=OK " cap(rest)
    }
    else if (verb == "SET" || verb == "SLEEP") print "=OK"
    else if (verb == "GET") print "~^(OK( .*)?|NONE)$"
    else if (verb == "DEL") print "~^OK [01]$"
    else if (verb == "INCR" || verb == "DECR") print "~^OK -?[0-9]+$"
    else if (verb == "THREAD") print "~^OK [^ ]+ [0-9]+$"
    else if (verb == "QUIT") print "=OK BYE"
    else if (verb == "STATS") print "*STATS"               # STAT lines, then END
    else print "=ERR unknown command"
}'

make_client() {  # $1 = client number; writes $work/req.$1 and $work/exp.$1
    local i=$1 j key
    if [ -n "$file" ]; then
        grep -v -e '^[[:space:]]*$' -e '^#' "$file" | cut -f1 >"$work/req.$i" || true
        grep -v -e '^[[:space:]]*$' -e '^#' "$file" | LC_ALL=C awk "$expect_awk" >"$work/exp.$i" || true
        for ((j = 1; j <= rounds; j++)); do
            printf 'INCR %s\n' "$counter" >>"$work/req.$i"
            printf '~^OK -?[0-9]+$\n' >>"$work/exp.$i"
        done
        return
    fi
    {
        for ((j = 1; j <= rounds; j++)); do
            key="$run_id:c$i:r$j"
            printf 'PING\n'
            printf 'ECHO client %s  round %s, spaces kept\n' "$i" "$j"
            printf 'CAP hELLO wORLD %s\n' "$i"
            printf 'SET %s value-%s-%s\n' "$key" "$i" "$j"
            printf 'GET %s\n' "$key"
            printf 'INCR %s\n' "$counter"
            printf 'DEL %s\n' "$key"
            printf 'GET %s\n' "$key"
        done
    } >"$work/req.$i"
    {
        for ((j = 1; j <= rounds; j++)); do
            printf '=OK PONG\n'
            printf '=OK client %s  round %s, spaces kept\n' "$i" "$j"
            printf '=OK Hello world %s\n' "$i"
            printf '=OK\n'
            printf '=OK value-%s-%s\n' "$i" "$j"
            printf '~^OK -?[0-9]+$\n'
            printf '=OK 1\n'
            printf '=NONE\n'
        done
    } >"$work/exp.$i"
}

for ((i = 1; i <= clients; i++)); do make_client "$i"; done
requests=$(cat "$work"/req.* | wc -l)

# --- the clients ---------------------------------------------------------------------
start=$(date +%s.%N)
pids=()
for ((i = 1; i <= clients; i++)); do
    ( set +e; nc -N -w 30 "$host" "$port" <"$work/req.$i" >"$work/out.$i" 2>"$work/err.$i"; echo $? >"$work/rc.$i" ) &
    pids+=($!)
done
wait "${pids[@]}"  # the clients only, not the daemon
seconds=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }')

# --- checking ------------------------------------------------------------------------
check_awk='
NR == FNR { want[FNR] = $0; n = FNR; next }
{ line = $0; sub(/\r$/, "", line); got[FNR] = line; m = FNR }
END {
    bad = 0; g = 1
    for (k = 1; k <= n; k++) {
        w = want[k]; kind = substr(w, 1, 1); text = substr(w, 2)
        if (g > m) { if (bad < 3) printf "  reply %d missing (want %s)\n", k, text; bad++; continue }
        if (kind == "*") {
            while (g <= m && got[g] ~ /^STAT /) g++
            if (g > m || got[g] != "END") { if (bad < 3) printf "  reply %d: STATS block without END\n", k; bad++ }
            g++; continue
        }
        ok = (kind == "=") ? (got[g] == text) : (got[g] ~ text)
        if (!ok) { if (bad < 3) printf "  reply %d: got \"%s\", want %s%s\n", k, got[g], (kind == "~" ? "match " : ""), text; bad++ }
        g++
    }
    if (m >= g) { printf "  %d unexpected extra line(s), first: \"%s\"\n", m - g + 1, got[g]; bad += m - g + 1 }
    print bad > "/dev/stderr"
}'

passed=0
failed=0
wrong=0
for ((i = 1; i <= clients; i++)); do
    report="$(LC_ALL=C awk "$check_awk" "$work/exp.$i" "$work/out.$i" 2>"$work/bad.$i")"
    bad="$(cat "$work/bad.$i")"
    rc="$(cat "$work/rc.$i" 2>/dev/null || echo 1)"
    if [ "$bad" -eq 0 ] && [ "$rc" -eq 0 ]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        wrong=$((wrong + bad))
        echo "nc-load: client $i failed: $bad wrong or missing replies, nc exit $rc $(head -c 200 "$work/err.$i")" >&2
        [ -z "$report" ] || echo "$report" >&2
    fi
done

# The shared counter: every client incremented it `rounds` times.
total=$((clients * rounds))
final="$(printf 'GET %s\nDEL %s\n' "$counter" "$counter" | nc -N -w 10 "$host" "$port" 2>/dev/null | tr -d '\r' | head -1)" || true
if [ "$final" = "OK $total" ]; then
    passed=$((passed + 1))
    counter_note="counter $total as expected"
else
    failed=$((failed + 1))
    counter_note="counter is '${final:-no reply}', expected 'OK $total'"
    echo "nc-load: shared counter $counter: got '${final:-no reply}', expected 'OK $total'" >&2
fi

echo "nc-load: $clients clients on $host:$port, $requests requests in $seconds s, $wrong wrong or missing replies, $counter_note"
echo "nc-load: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
