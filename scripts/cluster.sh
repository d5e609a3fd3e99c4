#!/usr/bin/env bash
# A local cache cluster: N carriaged instances (memcached protocol on) behind one
# twemproxy (Debian's nutcracker), all on 127.0.0.1. Prints the proxy's address, then
# runs until Ctrl-C or SIGTERM, and stops everything it started.
#
#   scripts/cluster.sh [N] [--proxy-port P] [-- carriaged flags...]
#
#   N               instances (default 3)
#   --proxy-port P  the proxy's port (default: a free one)
#   carriaged flags go to every instance (e.g. -- --max-memory 256MiB --eviction lru)
#
# Keys are spread by ketama (consistent hashing, fnv1a_64); a failed instance is ejected
# after one failure (auto_eject_hosts) and retried after 30 s, so the others keep serving
# their keys. The proxy config is printed too: it is the one for real hosts, with their
# addresses in `servers` (README, "More than one machine").
#
# Output (stdout), one line each, for scripts and tests to read:
#   instance <i> pid <pid> memcached 127.0.0.1:<port> line 127.0.0.1:<port>
#   proxy pid <pid> listening on 127.0.0.1:<port>
# Environment: CARRIAGE_BIN=path/to/carriaged skips the build.
set -euo pipefail
cd "$(dirname "$0")/.."

count=3
proxy_port=""
extra=()
while [ $# -gt 0 ]; do
    case "$1" in
        --proxy-port) proxy_port="${2:-}"; shift 2 ;;
        --) shift; extra=("$@"); break ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) [[ "$1" =~ ^[1-9][0-9]*$ ]] || { echo "cluster: unknown argument '$1'" >&2; exit 2; }; count=$1; shift ;;
    esac
done

source scripts/lib/install-deps.sh
if ! command -v nutcracker >/dev/null 2>&1; then
    [ "$(id -u)" -eq 0 ] || { echo "cluster: nutcracker is missing: sudo apt-get install nutcracker" >&2; exit 1; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nutcracker >&2
fi
bin="${CARRIAGE_BIN:-}"
if [ -z "$bin" ]; then
    swift build -c release --product carriaged >&2
    bin="$(swift build -c release --show-bin-path)/carriaged"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/cluster.XXXXXX")"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

servers=""
for ((i = 0; i < count; i++)); do
    log="$work/instance-$i.log"
    "$bin" --host 127.0.0.1 --port 0 --memcached-port 0 "${extra[@]}" 2>"$log" &
    pids+=($!)
    for _ in $(seq 1 100); do
        grep -q 'memcached protocol listening on' "$log" && break
        kill -0 "${pids[-1]}" 2>/dev/null || { cat "$log" >&2; echo "cluster: instance $i exited" >&2; exit 1; }
        sleep 0.1
    done
    memcached_port="$(grep -o 'memcached protocol listening on [^ ]*' "$log" | sed 's/.*://')"
    line_port="$(grep -o ' listening on [^ ]*' "$log" | head -1 | sed 's/.*://')"
    [ -n "$memcached_port" ] || { cat "$log" >&2; echo "cluster: instance $i did not start" >&2; exit 1; }
    echo "instance $i pid ${pids[-1]} memcached 127.0.0.1:$memcached_port line 127.0.0.1:$line_port"
    servers+="    - 127.0.0.1:$memcached_port:1 carriage-$i"$'\n'
done

proxy_port="${proxy_port:-$(free_port)}"
cat >"$work/nutcracker.yml" <<YAML
carriage:
  listen: 127.0.0.1:$proxy_port
  hash: fnv1a_64
  distribution: ketama
  auto_eject_hosts: true
  server_failure_limit: 1
  server_retry_timeout: 30000
  timeout: 2000
  servers:
$servers
YAML
echo "--- nutcracker.yml" >&2
cat "$work/nutcracker.yml" >&2
nutcracker -c "$work/nutcracker.yml" -s "$(free_port)" -a 127.0.0.1 -p "$work/nutcracker.pid" \
    -o "$work/nutcracker.log" &
pids+=($!)
for _ in $(seq 1 100); do
    printf 'version\r\n' | nc -N -w 1 127.0.0.1 "$proxy_port" 2>/dev/null | grep -q . && break
    kill -0 "${pids[-1]}" 2>/dev/null || { cat "$work/nutcracker.log" >&2; echo "cluster: nutcracker exited" >&2; exit 1; }
    sleep 0.1
done
echo "proxy pid ${pids[-1]} listening on 127.0.0.1:$proxy_port"
wait
