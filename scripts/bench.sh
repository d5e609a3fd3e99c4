#!/usr/bin/env bash
# Benchmark: carriaged against memcached and Redis on loopback, same load tool, same
# scenarios, interleaved (for each scenario the servers run back to back, and the whole
# set repeats --reps times, so machine drift hits every server alike). Prints a table of
# medians and writes it to bench-results/bench-<date>.txt (with the raw runs beside it,
# and PNG charts of throughput and latency drawn by scripts/bench-plot.sh).
#
#   scripts/bench.sh [--quick] [--duration S] [--reps N] [--servers LIST]
#                    [--scenarios LIST] [--idle N] [--items N] [--fill N] [--tool-threads N]
#                    [--baseline REV]
#
#   --duration S      seconds of load per run (default 5; env BENCH_DURATION)
#   --reps N          times the whole set repeats; medians over them (default 3;
#                     env BENCH_REPS)
#   --quick           smoke run: 1 s runs, 1 rep, 1000 idle connections in S4
#   --servers LIST    comma-separated, from carriaged,memcached,redis (default all)
#   --scenarios LIST  comma-separated, from S1-S6, K1,K2,K5, M1, M2 (default S1 to S6)
#   --idle N          idle connections in S4 (default 10000)
#   --items N         items M1 stores (default 1000000)
#   --fill N          items M2 stores (default 6000000)
#   --tool-threads N  carriage-load threads (default 1)
#   --loops N         carriaged's --loops (default: its own, 1 per 4 cores)
#   --pin CPU         run the servers pinned to that one CPU (taskset), the tool unpinned
#   --memcaslap       also run memcached's own load tool (memcaslap, libmemcached-tools)
#                     against memcached and carriaged's memcached port, 10 s each, and
#                     print its figures beside ours
#   --tls             also measure TLS against plain text, carriaged beside memcached -Z
#                     (S1, S2 and new connections per second, memcached's protocol:
#                     scripts/tls-bench.sh, same --reps and --duration), and add its
#                     table to this one
#   --baseline REV    also run carriaged built from git revision REV (e.g. HEAD~1), as
#                     the server "baseline", interleaved with the others: an A/B of a
#                     change in one run (built in .build-baseline/ from a git worktree)
#
# Scenarios (every reply is checked by carriage-load; errors are shown, never dropped):
#   S1  keep-alive request/response: 50 connections, pipeline 1, PING
#   S2  pipelined: 50 connections, pipeline 16, PING
#   S3  connect-per-request: 16 concurrent clients, PING
#   S4  S1's load plus N idle connections: throughput, p99, server RSS, RSS per idle
#   S5  shared store: 90% GET / 10% SET over 10,000 keys (32-byte values), 50 connections
#   S6  shared store: INCR on one hot key, 50 connections
#   M1  memory per item: N distinct items (keys bench:0 ... bench:N-1, 7 to 12 bytes,
#       11.9 on average for a million; 32-byte values) stored once each, pipelined;
#       prints server RSS growth / N. Not in the default list: run it alone
#       (--scenarios M1), on fresh servers.
#   M2  a bounded cache filled past its bound: each server restarted with 256 MiB and
#       LRU eviction (carriaged --max-memory 256MiB --eviction lru; memcached -m 256;
#       redis --maxmemory 256mb --maxmemory-policy allkeys-lru), then --fill distinct
#       M1-style items stored once each. Prints whether every write was accepted, RSS
#       growth against the 256 MiB, evictions and the memory the server reports. Not
#       in the default list; the baseline is left out (it may predate --eviction).
#   K1, K2, K5  memcached's protocol, the same commands to memcached and to carriaged's
#       --memcached-port (Redis sits these out): K1 `version` keep-alive, 50 connections;
#       K2 `get` pipelined x16 over 10,000 keys; K5 90% get / 10% set, as S5.
# PING is `version` for memcached and inline `PING` for Redis; GET/SET/INCR are
# `get`/`set`/`incr` for memcached. carriaged speaks its line protocol in S1-S6.
#
# Servers, each on a free loopback port, persistence off, started and stopped here:
#   carriaged --workers <cores> --max-connections 20000 --idle-timeout 0 --max-memory 8GiB
#   memcached -t <cores> -c 20000 -m 1024          (apt-get install -y memcached)
#   redis-server --save '' --appendonly no --maxclients 20000   (apt-get install -y redis-server)
# memcached and redis-server are installed from Debian packages when missing (as root),
# and left out with a note when they cannot be.
#
# Nothing is pinned to CPUs: on a 2-core machine the server and the load tool share the
# cores, as they would on one box; the CPU columns show who was the bottleneck.
# Columns: srv% and tool% are CPU seconds over wall seconds (100% = one core busy);
# srv cpu/100k is the server's CPU seconds (utime+stime from /proc/PID/stat) per 100,000
# requests. RSS is VmRSS from /proc/PID/status, the highest seen during the run (S4:
# RSS per idle = (that - RSS before the run) / connections opened). The servers are
# restarted at the start of each rep, and S5/S6's keys are preloaded before S5.
#
# Environment: CARRIAGE_BUILD_ARGS adds flags to `swift build` (e.g. --scratch-path X).
set -euo pipefail

duration="${BENCH_DURATION:-5}"
reps="${BENCH_REPS:-3}"
idle=10000
items=1000000
fill=6000000
bound_mib=256
bounded=""  # set while M2's servers run with the bound
servers="carriaged,memcached,redis"
scenarios="S1,S2,S3,S4,S5,S6"
tool_threads=1
baseline=""
memcaslap_run=0
loops=""
pin=""
tls_run=""

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
die() { echo "bench: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
    case "$1" in
        --quick) duration=1; reps=1; idle=1000; shift ;;
        --duration) duration="${2:-}"; shift 2 ;;
        --reps) reps="${2:-}"; shift 2 ;;
        --servers) servers="${2:-}"; shift 2 ;;
        --scenarios) scenarios="${2:-}"; shift 2 ;;
        --idle) idle="${2:-}"; shift 2 ;;
        --items) items="${2:-}"; shift 2 ;;
        --fill) fill="${2:-}"; shift 2 ;;
        --tool-threads) tool_threads="${2:-}"; shift 2 ;;
        --baseline) baseline="${2:-}"; shift 2 ;;
        --memcaslap) memcaslap_run=1; shift ;;
        --tls) tls_run=1; shift ;;
        --loops) loops="${2:-}"; shift 2 ;;
        --pin) pin="${2:-}"; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
done
[[ "$duration" =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "--duration must be a number of seconds"
[[ "$reps" =~ ^[1-9][0-9]*$ ]] || die "--reps must be a positive integer"
[[ "$idle" =~ ^[0-9]+$ ]] || die "--idle must be a non-negative integer"
[[ "$items" =~ ^[1-9][0-9]*$ ]] || die "--items must be a positive integer"
[[ "$fill" =~ ^[1-9][0-9]*$ ]] || die "--fill must be a positive integer"
[[ "$tool_threads" =~ ^[1-9][0-9]*$ ]] || die "--tool-threads must be a positive integer"
[ -z "$loops" ] || [[ "$loops" =~ ^[1-9][0-9]*$ ]] || die "--loops must be a positive integer"
[ -z "$pin" ] || [[ "$pin" =~ ^[0-9]+$ ]] || die "--pin must be a CPU number"
pinned=()
[ -n "$pin" ] && pinned=(taskset -c "$pin")

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
cores="$(nproc)"
clk_tck="$(getconf CLK_TCK)"
stamp="$(date +%Y%m%d-%H%M%S)"
results_dir="$root/bench-results"
mkdir -p "$results_dir"
table_file="$results_dir/bench-$stamp.txt"
raw_file="$results_dir/bench-$stamp.tsv"
work="$(mktemp -d "${TMPDIR:-/tmp}/bench.XXXXXX")"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

declare -A pid_of port_of proto_of mport_of
stop_server() {
    local pid="${pid_of[$1]:-}"
    [ -n "$pid" ] || return 0
    if kill -TERM "$pid" 2>/dev/null; then
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
    unset "pid_of[$1]"
}
cleanup() {
    for name in "${!pid_of[@]}"; do stop_server "$name"; done
    [ -d "$work/baseline" ] && git -C "$root" worktree remove --force "$work/baseline" >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- build -----------------------------------------------------------------------
echo "bench: building release carriaged and carriage-load" >&2
# shellcheck disable=SC2086
swift build -c release --product carriaged ${CARRIAGE_BUILD_ARGS:-} >"$work/build.log" 2>&1 \
    && swift build -c release --product carriage-load ${CARRIAGE_BUILD_ARGS:-} >>"$work/build.log" 2>&1 \
    || { tail -30 "$work/build.log" >&2; die "release build failed"; }
# shellcheck disable=SC2086
bin="$(swift build -c release --show-bin-path ${CARRIAGE_BUILD_ARGS:-})"
load="$bin/carriage-load"
baseline_bin=""
if [ -n "$baseline" ]; then
    rev="$(git rev-parse --verify "$baseline^{commit}" 2>/dev/null)" || die "--baseline: no such revision '$baseline'"
    echo "bench: building release carriaged at $baseline (${rev:0:10}) as the baseline" >&2
    git worktree add --detach "$work/baseline" "$rev" >"$work/worktree.log" 2>&1 || { cat "$work/worktree.log" >&2; die "git worktree add failed"; }
    swift build -c release --product carriaged --package-path "$work/baseline" --scratch-path "$root/.build-baseline" \
        >"$work/build-baseline.log" 2>&1 || { tail -30 "$work/build-baseline.log" >&2; die "baseline build failed"; }
    baseline_bin="$(swift build -c release --package-path "$work/baseline" --scratch-path "$root/.build-baseline" --show-bin-path)/carriaged"
fi

# --- peers -------------------------------------------------------------------------
want() { [[ ",$servers," == *",$1,"* ]]; }
install_peer() {  # $1 = binary, $2 = Debian package
    command -v "$1" >/dev/null 2>&1 && return 0
    if [ "$(id -u)" -ne 0 ]; then echo "bench: $1 missing and not root: skipping it" >&2; return 1; fi
    echo "bench: installing $2 (apt-get)" >&2
    { [ -n "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v -e lock -e partial)" ] || apt-get update -qq; } >/dev/null 2>&1 || true
    # policy-rc.d (if the image has one) keeps the package from starting a system service.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >"$work/apt-$2.log" 2>&1 \
        || { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >"$work/apt-$2.log" 2>&1; } \
        || { echo "bench: cannot install $2: skipping it" >&2; return 1; }
}
active=()
want carriaged && active+=(carriaged)
[ -n "$baseline_bin" ] && active+=(baseline)
if want memcached && install_peer memcached memcached; then active+=(memcached); fi
if want redis && install_peer redis-server redis-server; then active+=(redis); fi
[ ${#active[@]} -gt 0 ] || die "no server to benchmark"

free_port() {
    local p
    for _ in $(seq 1 200); do
        p=$((20000 + RANDOM % 12000))
        nc -z 127.0.0.1 "$p" 2>/dev/null || { echo "$p"; return; }
    done
    die "no free port found"
}

wait_ready() {  # $1 = name, $2 = probe command
    for _ in $(seq 1 150); do
        kill -0 "${pid_of[$1]}" 2>/dev/null || { cat "$work/$1.log" >&2; die "$1 exited at start-up"; }
        if eval "$2" >/dev/null 2>&1; then return 0; fi
        sleep 0.1
    done
    cat "$work/$1.log" >&2
    die "$1 did not become ready"
}

start_server() {
    local name=$1 port
    case "$name" in
        carriaged|baseline)
            local binary="$bin/carriaged"
            [ "$name" = baseline ] && binary="$baseline_bin"
            local memory=(--max-memory 8GiB)
            [ -n "$loops" ] && [ "$name" = carriaged ] && memory+=(--loops "$loops")
            [ -n "$bounded" ] && memory=(--max-memory "${bound_mib}MiB" --eviction lru)
            # The baseline may predate --memcached-port.
            local memcached_port=(--memcached-port 0)
            # The whole help is read first: `grep -q` would stop reading at the match, and
            # the binary's SIGPIPE then fails the pipeline (pipefail) half of the time.
            if [ "$name" = baseline ] && [[ "$("$binary" --help 2>&1 || true)" != *memcached-port* ]]; then
                memcached_port=()
            fi
            "${pinned[@]}" "$binary" --host 127.0.0.1 --port 0 --workers "$cores" --max-connections 20000 \
                --idle-timeout 0 "${memory[@]}" "${memcached_port[@]}" 2>"$work/$name.log" &
            pid_of[$name]=$!
            wait_ready "$name" "grep -q 'listening on' '$work/$name.log'"
            port_of[$name]="$(grep -o ' listening on [^ ]*' "$work/$name.log" | head -1 | sed 's/.*://')"
            # Empty for a baseline without the port (grep finds nothing: not an error).
            mport_of[$name]="$(grep -o 'memcached protocol listening on [^ ]*' "$work/$name.log" | head -1 | sed 's/.*://' || true)"
            proto_of[$name]=carriage
            ;;
        memcached)
            port="$(free_port)"
            local user=()
            [ "$(id -u)" -eq 0 ] && user=(-u root)
            local megabytes=1024
            [ -n "$bounded" ] && megabytes=$bound_mib
            "${pinned[@]}" memcached -l 127.0.0.1 -p "$port" -U 0 -t "$cores" -c 20000 -m "$megabytes" "${user[@]}" >"$work/memcached.log" 2>&1 &
            pid_of[memcached]=$!
            port_of[memcached]=$port
            proto_of[memcached]=memcached
            mport_of[memcached]=$port
            wait_ready memcached "printf 'version\r\n' | nc -N -w 2 127.0.0.1 $port | grep -q VERSION"
            ;;
        redis)
            port="$(free_port)"
            local bound=()
            [ -n "$bounded" ] && bound=(--maxmemory "${bound_mib}mb" --maxmemory-policy allkeys-lru)
            "${pinned[@]}" redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --maxclients 20000 "${bound[@]}" \
                --daemonize no --protected-mode no --logfile "$work/redis.log" >/dev/null 2>&1 &
            pid_of[redis]=$!
            port_of[redis]=$port
            proto_of[redis]=redis
            wait_ready redis "printf 'PING\r\n' | nc -N -w 2 127.0.0.1 $port | grep -q PONG"
            ;;
    esac
    echo "bench: $name pid ${pid_of[$name]} on 127.0.0.1:${port_of[$name]}" >&2
}

# --- scenarios ------------------------------------------------------------------------
# Arguments of carriage-load for scenario $1 against a server speaking protocol $2.
scenario_args() {
    local ping get set incr
    case "$2" in
        carriage) ping='PING'; get='GET %k'; set='SET %k %v'; incr='INCR bench:hot' ;;
        memcached) ping='version'; get='get %k'; set='set %k 0 0 %n\r\n%v'; incr='incr bench:hot 1' ;;
        redis) ping='PING'; get='GET %k'; set='SET %k %v'; incr='INCR bench:hot' ;;
    esac
    local keyed=(--keys 10000 --key-prefix bench:k --value-size 32)
    case "$1" in
        S1) args=(--connections 50 --pipeline 1 --request "$ping") ;;
        S2) args=(--connections 50 --pipeline 16 --request "$ping") ;;
        S3) args=(--connections 16 --connect-per-request --request "$ping") ;;
        S4) args=(--connections 50 --pipeline 1 --idle "$idle" --request "$ping") ;;
        S5) args=(--connections 50 --pipeline 1 "${keyed[@]}" --request "90:$get" --request "10:$set") ;;
        S6) args=(--connections 50 --pipeline 1 --request "$incr") ;;
        M1) args=(--connections 50 --pipeline 16 --keys "$items" --key-order sequential --key-prefix bench:
                  --value-size 32 --request "$set" --requests "$items") ;;
        M2) args=(--connections 50 --pipeline 16 --keys "$fill" --key-order sequential --key-prefix bench:
                  --value-size 32 --request "$set" --requests "$fill") ;;
        K1) args=(--connections 50 --pipeline 1 --request "$ping") ;;
        K2) args=(--connections 50 --pipeline 16 "${keyed[@]}" --request "$get") ;;
        K5) args=(--connections 50 --pipeline 1 "${keyed[@]}" --request "90:$get" --request "10:$set") ;;
        warm) args=(--connections 50 --pipeline 16 "${keyed[@]}" --request "$set" --requests 40000) ;;
    esac
}
describe() {
    case "$1" in
        S1) echo "S1 keep-alive PING, 50 conns" ;;
        S2) echo "S2 pipelined x16, 50 conns" ;;
        S3) echo "S3 connect-per-request, 16" ;;
        S4) echo "S4 S1 + $idle idle conns" ;;
        S5) echo "S5 90% GET/10% SET, 10k keys" ;;
        S6) echo "S6 INCR one hot key" ;;
        M1) echo "M1 store $items items" ;;
        M2) echo "M2 fill ${bound_mib} MiB LRU, $fill items" ;;
        K1) echo "K1 memcached version, 50 conns" ;;
        K2) echo "K2 memcached get x16, 10k keys" ;;
        K5) echo "K5 memcached 90% get/10% set" ;;
    esac
}

cpu_ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
# CPU ticks of the threads of $1 whose name starts with $2 (loop-, worker-).
thread_ticks() {
    local total=0 task name ticks
    for task in /proc/"$1"/task/*; do
        name="$(cat "$task/comm" 2>/dev/null)" || continue
        [[ "$name" == "$2"* ]] || continue
        ticks="$(awk '{ sub(/.*\) /, ""); print $12 + $13 }' "$task/stat" 2>/dev/null)" || continue
        total=$((total + ${ticks:-0}))
    done
    echo "$total"
}
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
json_field() {  # $1 = key, $2 = file: a number field of carriage-load's JSON
    sed -n "s/.*\"$1\":\\(-\\{0,1\\}[0-9.]*\\).*/\\1/p" "$2" | head -1
}

# Preload the keys S5 reads, and the hot counter memcached's incr needs.
warm_up() {
    local name
    for name in "${active[@]}"; do
        scenario_args warm "${proto_of[$name]}"
        "$load" --host 127.0.0.1 --port "${port_of[$name]}" --protocol "${proto_of[$name]}" "${args[@]}" \
            --json >/dev/null 2>"$work/warm.err" || echo "bench: warm-up against $name had errors: $(head -c 300 "$work/warm.err")" >&2
        if [ "$name" = memcached ]; then
            printf 'set bench:hot 0 0 1\r\n0\r\n' | nc -N -w 2 127.0.0.1 "${port_of[memcached]}" >/dev/null || true
        fi
    done
}

# M2's evictions and the memory the server says it uses: "evictions<TAB>bytes".
cache_report() {
    local port="${port_of[$1]}"
    case "${proto_of[$1]}" in
        carriage) printf 'STATS\nQUIT\n' | nc -N -w 5 127.0.0.1 "$port" \
            | awk '$2 == "evictions" { e = $3 } $2 == "memory_used" { m = $3 } END { printf "%s\t%s", e, m }' ;;
        memcached) printf 'stats\r\nquit\r\n' | nc -N -w 5 127.0.0.1 "$port" | tr -d '\r' \
            | awk '$2 == "evictions" { e = $3 } $2 == "bytes" { m = $3 } END { printf "%s\t%s", e, m }' ;;
        redis) printf 'INFO\r\nQUIT\r\n' | nc -N -w 5 127.0.0.1 "$port" | tr -d '\r' \
            | awk -F: '$1 == "evicted_keys" { e = $2 } $1 == "used_memory" { m = $2 } END { printf "%s\t%s", e, m }' ;;
    esac
}

IFS=, read -r -a scenario_list <<<"$scenarios"
for s in "${scenario_list[@]}"; do
    [[ "$s" =~ ^(S[1-6]|M[12]|K[125])$ ]] || die "unknown scenario '$s' (S1 to S6, K1, K2, K5, M1, M2)"
done
printf 'rep\tscenario\tserver\trequests\trps\tp50_us\tp99_us\terrors\tseconds\tserver_cpu_s\ttool_cpu_s\trss_before_kib\trss_max_kib\tloop_cpu_s\tworker_cpu_s\n' >"$raw_file"

run_one() {  # $1 = rep, $2 = scenario, $3 = server
    local rep=$1 s=$2 name=$3 pid="${pid_of[$3]}"
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "bench: $name is no longer running; skipping $s" >&2
        return
    fi
    local proto="${proto_of[$name]}" port="${port_of[$name]}"
    if [[ "$s" == K* ]]; then
        # memcached's protocol: memcached itself, or carriaged's memcached port.
        [ -n "${mport_of[$name]:-}" ] || return 0
        proto=memcached
        port="${mport_of[$name]}"
    fi
    scenario_args "$s" "$proto"
    local before_ticks after_ticks rss_before rss_max=0 rss tool_pid status=0
    rss_before="$(rss_kib "$pid")"
    before_ticks="$(cpu_ticks "$pid")"
    local loop_before worker_before
    loop_before="$(thread_ticks "$pid" loop-)"
    worker_before="$(thread_ticks "$pid" worker-)"
    local length=(--duration "$duration")
    [[ "$s" == M[12] ]] && length=()  # a count of requests, not a duration
    "$load" --host 127.0.0.1 --port "$port" --protocol "$proto" \
        "${length[@]}" --threads "$tool_threads" "${args[@]}" --json >"$work/run.json" 2>"$work/run.err" &
    tool_pid=$!
    while kill -0 "$tool_pid" 2>/dev/null; do
        rss="$(rss_kib "$pid")"
        [ "${rss:-0}" -gt "$rss_max" ] && rss_max=$rss
        sleep 0.2
    done
    wait "$tool_pid" || status=$?
    after_ticks="$(cpu_ticks "$pid")"
    local loop_cpu worker_cpu
    loop_cpu="$(awk -v a="$loop_before" -v b="$(thread_ticks "$pid" loop-)" -v t="$clk_tck" 'BEGIN { printf "%.3f", (b - a) / t }')"
    worker_cpu="$(awk -v a="$worker_before" -v b="$(thread_ticks "$pid" worker-)" -v t="$clk_tck" 'BEGIN { printf "%.3f", (b - a) / t }')"
    rss="$(rss_kib "$pid")"  # a short run can end before the first sample
    [ "${rss:-0}" -gt "$rss_max" ] && rss_max=$rss
    if [ "$status" -ge 2 ] || [ ! -s "$work/run.json" ]; then
        echo "bench: $s against $name failed (exit $status): $(head -c 400 "$work/run.err")" >&2
        return
    fi
    [ "$status" -eq 0 ] || echo "bench: $s against $name counted errors: $(head -3 "$work/run.err" | tr '\n' ' ')" >&2
    local server_cpu
    server_cpu="$(awk -v a="$before_ticks" -v b="$after_ticks" -v t="$clk_tck" 'BEGIN { printf "%.3f", (b - a) / t }')"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$rep" "$s" "$name" \
        "$(json_field requests "$work/run.json")" "$(json_field requests_per_second "$work/run.json")" \
        "$(json_field p50 "$work/run.json")" "$(json_field p99 "$work/run.json")" \
        "$(json_field errors "$work/run.json")" "$(json_field duration_s "$work/run.json")" \
        "$server_cpu" "$(json_field cpu_seconds "$work/run.json")" "$rss_before" "$rss_max" "$loop_cpu" "$worker_cpu" >>"$raw_file"
    printf 'bench: rep %s %-3s %-10s %12s req/s  p99 %9s us  errors %s\n' "$rep" "$s" "$name" \
        "$(json_field requests_per_second "$work/run.json")" "$(json_field p99 "$work/run.json")" \
        "$(json_field errors "$work/run.json")" >&2
}

total_runs=$((reps * ${#scenario_list[@]} * ${#active[@]}))
echo "bench: $total_runs runs of ${duration} s (${#active[@]} servers x ${#scenario_list[@]} scenarios x $reps reps)" >&2
for ((rep = 1; rep <= reps; rep++)); do
    # Fresh servers each rep: RSS before S4 is then a server's own baseline, not the
    # high-water mark a previous rep's 10,000 connections left in its allocator.
    for name in "${active[@]}"; do stop_server "$name"; start_server "$name"; done
    warmed=0
    for s in "${scenario_list[@]}"; do
        if [[ "$s" == S5 || "$s" == S6 || "$s" == K2 || "$s" == K5 ]] && [ "$warmed" -eq 0 ]; then warm_up; warmed=1; fi
        for name in "${active[@]}"; do
            if [ "$s" = M2 ]; then
                [ "$name" = baseline ] && continue
                stop_server "$name"; bounded=1; start_server "$name"
                run_one "$rep" "$s" "$name"
                printf '%s\t%s\t%s\n' "$rep" "$name" "$(cache_report "$name")" >>"$work/m2.tsv"
                stop_server "$name"; bounded=""; start_server "$name"
            else
                run_one "$rep" "$s" "$name"
            fi
        done
    done
done
# memcached's own load tool against the memcached protocol of each server that speaks it:
# its default mix (9 get : 1 set), 32-byte values, 50 concurrent connections, 10 s.
if [ "$memcaslap_run" -eq 1 ] && install_peer memcaslap libmemcached-tools; then
    for name in "${active[@]}"; do
        [ -n "${mport_of[$name]:-}" ] || continue
        echo "bench: memcaslap against $name" >&2
        memcaslap -s "127.0.0.1:${mport_of[$name]}" -t 10s -T "$cores" -c 50 -X 32 >"$work/memcaslap-$name.txt" 2>&1 || true
        tps="$(awk '/^Run time:/ { for (i = 1; i <= NF; i++) if ($i == "TPS:") print $(i + 1) }' "$work/memcaslap-$name.txt" | tail -1)"
        printf '%s\t%s\n' "$name" "${tps:-failed}" >>"$work/memcaslap.tsv"
    done
fi
for name in "${active[@]}"; do stop_server "$name"; done

# --- the table ---------------------------------------------------------------------
descriptions=""
for s in "${scenario_list[@]}"; do descriptions+="$s=$(describe "$s");"; done
{
    echo "Carriage bench $(date '+%Y-%m-%d %H:%M'), $(uname -m), $cores cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
    echo "medians of $reps rep(s), ${duration} s per run, interleaved; carriage-load threads: $tool_threads; servers: ${active[*]}"
    for name in "${active[@]}"; do
        case "$name" in
            carriaged) echo "  carriaged: --workers $cores --max-connections 20000 --idle-timeout 0 --max-memory 8GiB${loops:+ --loops $loops}${pin:+ (pinned to CPU $pin)}" ;;
            baseline) echo "  baseline: carriaged at $baseline (${rev:0:10}), the same flags" ;;
            memcached) echo "  memcached $(memcached -V 2>/dev/null | awk '{ print $2 }'): -t $cores -c 20000 -m 1024" ;;
            redis) echo "  redis $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p'): --save '' --appendonly no --maxclients 20000" ;;
        esac
    done
    echo
    awk -F'\t' -v order="${scenario_list[*]}" -v servers="${active[*]}" -v descr="$descriptions" '
    function median(list,    n, a, i, j, t) {
        n = split(list, a, " ")
        if (n == 0) return ""
        for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
        return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    function add(key, value) { values[key] = values[key] " " value }
    # A memory section for scenario s: RSS, and RSS growth divided by `count`.
    function memory(s, heading, label, count, format,    j, k) {
        if (index(" " order " ", " " s " ") == 0) return
        print ""
        print heading
        for (j = 1; j <= ns; j++) {
            k = s SUBSEP sv[j]
            if (!(k in seen)) continue
            printf "  %-10s RSS %8.1f MiB   %s " format " bytes\n", sv[j], median(values[k SUBSEP "rss"]) / 1024, label, \
                median(values[k SUBSEP "rssdelta"]) * 1024 / count
        }
    }
    NR == 1 { next }
    {
        k = $2 SUBSEP $3
        add(k SUBSEP "rps", $5); add(k SUBSEP "p50", $6); add(k SUBSEP "p99", $7)
        errors[k] += $8
        srv = ($4 > 0) ? $10 / $4 * 100000 : 0; tool = ($4 > 0) ? $11 / $4 * 100000 : 0
        add(k SUBSEP "srv100k", srv); add(k SUBSEP "tool100k", tool)
        add(k SUBSEP "srvpct", ($9 > 0) ? $10 / $9 * 100 : 0); add(k SUBSEP "toolpct", ($9 > 0) ? $11 / $9 * 100 : 0)
        add(k SUBSEP "rss", $13); add(k SUBSEP "rssdelta", $13 - $12)
        if ($4 > 0 && $14 + $15 > 0) { add(k SUBSEP "loopus", $14 / $4 * 1e6); add(k SUBSEP "workerus", $15 / $4 * 1e6) }
        seen[k] = 1
    }
    END {
        n = split(descr, d, ";"); for (i = 1; i <= n; i++) { split(d[i], kv, "="); title[kv[1]] = kv[2] }
        ns = split(servers, sv, " "); nsc = split(order, sc, " ")
        printf "%-31s %-10s %11s %9s %9s %7s %6s %6s %9s %9s %10s\n", "scenario", "server", "req/s", "p50 us", "p99 us", "errors", "srv%", "tool%", "srv s/100k", "tool s/100k", "RSS MiB"
        for (i = 1; i <= nsc; i++) {
            s = sc[i]
            for (j = 1; j <= ns; j++) {
                k = s SUBSEP sv[j]
                if (!(k in seen)) continue
                rps[s, sv[j]] = median(values[k SUBSEP "rps"])
                rss = median(values[k SUBSEP "rss"])
                printf "%-31s %-10s %11.0f %9.1f %9.1f %7d %5.0f%% %5.0f%% %9.3f %9.3f %10.1f\n", (j == 1 ? title[s] : ""), sv[j], rps[s, sv[j]], \
                    median(values[k SUBSEP "p50"]), median(values[k SUBSEP "p99"]), errors[k], \
                    median(values[k SUBSEP "srvpct"]), median(values[k SUBSEP "toolpct"]), \
                    median(values[k SUBSEP "srv100k"]), median(values[k SUBSEP "tool100k"]), rss / 1024
            }
        }
        print ""
        print "Carriage requests/s relative to each peer (median over median; >1 = Carriage faster):"
        for (i = 1; i <= nsc; i++) {
            s = sc[i]; line = ""
            if (!((s, "carriaged") in rps) || rps[s, "carriaged"] == 0) continue
            for (j = 1; j <= ns; j++) {
                if (sv[j] == "carriaged" || !((s, sv[j]) in rps) || rps[s, sv[j]] == 0) continue
                line = line sprintf("   vs %-9s %5.2fx", sv[j], rps[s, "carriaged"] / rps[s, sv[j]])
            }
            if (line != "") printf "  %-31s%s\n", title[s], line
        }
        header = 0
        for (i = 1; i <= nsc; i++) {
            for (j = 1; j <= ns; j++) {
                k = sc[i] SUBSEP sv[j]
                if (!((k SUBSEP "loopus") in values) || values[k SUBSEP "loopus"] == "") continue
                if (!header) {
                    print ""
                    print "carriaged threads, CPU per request (from /proc/PID/task/*/stat), and the loops ceiling it gives:"
                    printf "  %-31s %-10s %9s %11s %6s %16s %14s\n", "scenario", "server", "loop us", "workers us", "loops", "loops saturate", "measured req/s"
                    header = 1
                }
                lu = median(values[k SUBSEP "loopus"]); wu = median(values[k SUBSEP "workerus"])
                printf "  %-31s %-10s %9.2f %11.2f %6d %16.0f %14.0f\n", title[sc[i]], sv[j], lu, wu, LOOPS, (lu > 0 ? LOOPS * 1e6 / lu : 0), rps[sc[i], sv[j]]
            }
        }
        if (header) print "  loops saturate: requests/s at which the loop threads are all busy (loops x 1 / loop us); a prediction, not a measurement"
        memory("M1", "M1 memory: (highest server RSS during the fill - RSS before) / items stored:", "per item", ITEMS, "%7.1f")
        memory("S4", "S4 memory: highest server RSS during the run, and (that - RSS before) / connections opened:", "per idle connection", IDLE + 50, "%7.0f")
        print ""
        print "srv% / tool%: CPU seconds over wall seconds (100% = one core); " CORES " cores shared by server and tool."
    }' IDLE="$idle" ITEMS="$items" CORES="$cores" LOOPS="${loops:-$(( cores / 4 > 0 ? cores / 4 : 1 ))}" "$raw_file"
    if [ -s "$work/m2.tsv" ]; then
        echo
        echo "M2 bounded cache: ${bound_mib} MiB with LRU eviction, $fill distinct items stored once each (medians):"
        awk -F'\t' -v bound="$bound_mib" '
            FNR == NR { if (FNR > 1 && $2 == "M2") { k = $3; errors[k] += $8; growth[k] = growth[k] " " ($13 - $12) / 1024; rss[k] = rss[k] " " $13 / 1024 } ; next }
            { ev[$2] = ev[$2] " " $3; used[$2] = used[$2] " " $4 / 1048576; if (!($2 in order)) { order[$2] = ++n; names[n] = $2 } }
            function median(list,    m, a, i, j, t) {
                m = split(list, a, " "); if (m == 0) return 0
                for (i = 2; i <= m; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
                return (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
            }
            END {
                printf "  %-10s %8s %13s %12s %12s %16s\n", "server", "errors", "RSS growth", "vs bound", "evictions", "reported MiB"
                for (i = 1; i <= n; i++) {
                    k = names[i]; g = median(growth[k])
                    printf "  %-10s %8d %9.1f MiB %11.2fx %12d %16.1f\n", k, errors[k], g, g / bound, median(ev[k]), median(used[k])
                }
                print "  reported: carriaged memory_used (pages, index, queues), memcached bytes (items only), redis used_memory"
            }' "$raw_file" "$work/m2.tsv"
    fi
    if [ -s "$work/memcaslap.tsv" ]; then
        echo
        echo "memcaslap (libmemcached-tools), memcached protocol, 10 s, -T $cores -c 50 -X 32, its default 9:1 get/set:"
        awk -F'\t' '{ printf "  %-10s %10s ops/s\n", $1, $2 }' "$work/memcaslap.tsv"
    fi
    if [ -n "$tls_run" ]; then
        echo
        # Its servers start after this run's have stopped: the two never share the cores.
        "$root/scripts/tls-bench.sh" --reps "$reps" --duration "${duration%.*}" 2>/dev/null \
            || echo "TLS: scripts/tls-bench.sh failed (run it alone to see why)"
    fi
} | tee "$table_file"
echo "bench: table written to ${table_file#"$root"/}, raw runs in ${raw_file#"$root"/}" >&2
# Charts beside them (gnuplot): throughput and latency per scenario and server.
"$root/scripts/bench-plot.sh" "$raw_file" || echo "bench: no charts (bench-plot.sh failed)" >&2
