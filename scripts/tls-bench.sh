#!/usr/bin/env bash
# TLS against plain text, carriaged beside memcached -Z, memcached's protocol, same load
# tool, interleaved: S1 (keep-alive `version`, 50 connections), S2 (pipelined x16) and S3
# (a new connection per request: new TLS connections per second). Each server runs a plain
# and a TLS listener (carriaged: two instances, one with --tls-cert; memcached: notls: and
# TLS listeners of one process), with a throw-away RSA-2048 certificate made here.
# Prints every run and the medians, and each server's TLS/plain ratio.
#
#   scripts/tls-bench.sh [--reps N] [--duration S]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/install-deps.sh
reps=3
duration=5
while [ $# -gt 0 ]; do
    case "$1" in
        --reps) reps="${2:-}"; shift 2 ;;
        --duration) duration="${2:-}"; shift 2 ;;
        *) echo "tls-bench: unknown option '$1' (--reps N, --duration S)" >&2; exit 2 ;;
    esac
done
[[ "$reps" =~ ^[1-9][0-9]*$ ]] || { echo "tls-bench: --reps must be a positive integer" >&2; exit 2; }
[[ "$duration" =~ ^[1-9][0-9]*$ ]] || { echo "tls-bench: --duration must be a positive integer" >&2; exit 2; }
command -v memcached >/dev/null || { echo "tls-bench: needs memcached (apt-get install memcached)" >&2; exit 2; }
swift build -c release --product carriaged >&2
swift build -c release --product carriage-load >&2
bin="$(swift build -c release --show-bin-path)"
work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/key.pem" -out "$work/cert.pem" -days 2 \
    -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 2>/dev/null
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cores="$(nproc)"
user=(); [ "$(id -u)" -eq 0 ] && user=(-u root)
results="$work/results.tsv"
for rep in $(seq "$reps"); do
    plain="$(free_port)"; tls="$(free_port)"; mplain="$(free_port)"; mtls="$(free_port)"
    "$bin/carriaged" --port 0 --memcached-port "$plain" --workers "$cores" --idle-timeout 0 --max-connections 20000 2>"$work/c1.log" & pids+=($!)
    "$bin/carriaged" --port 0 --memcached-port "$tls" --workers "$cores" --idle-timeout 0 --max-connections 20000 \
        --tls-cert "$work/cert.pem" --tls-key "$work/key.pem" 2>"$work/c2.log" & pids+=($!)
    memcached "${user[@]}" -t "$cores" -c 20000 -m 1024 -U 0 -l "notls:127.0.0.1:$mplain" -l "127.0.0.1:$mtls" \
        -Z -o "ssl_chain_cert=$work/cert.pem,ssl_key=$work/key.pem" >/dev/null 2>&1 & pids+=($!)
    for _ in $(seq 100); do
        grep -q 'memcached protocol listening' "$work/c1.log" 2>/dev/null && grep -q 'memcached protocol listening' "$work/c2.log" 2>/dev/null \
            && printf 'version\r\n' | nc -N -w 1 127.0.0.1 "$mplain" 2>/dev/null | grep -q VERSION && break
        sleep 0.1
    done
    for s in S1 S2 S3; do
        case $s in
            S1) args=(--connections 50 --request version) ;;
            S2) args=(--connections 50 --pipeline 16 --request version) ;;
            S3) args=(--connections 16 --connect-per-request --request version) ;;
        esac
        for target in "carriaged plain $plain" "carriaged TLS $tls" "memcached plain $mplain" "memcached TLS $mtls"; do
            read -r server mode port <<<"$target"
            extra=(); [ "$mode" = TLS ] && extra=(--tls --tls-ca "$work/cert.pem")
            line="$("$bin/carriage-load" --port "$port" --protocol memcached --duration "$duration" "${extra[@]}" "${args[@]}" --json 2>/dev/null \
                | python3 -c 'import json,sys; d=json.load(sys.stdin); print("%d\t%.1f\t%d" % (d["requests_per_second"], d["latency_us"]["p99"], d["errors"]))')"
            printf '%s\t%s\t%s\t%s\t%s\n' "$rep" "$s" "$server" "$mode" "$line" | tee -a "$results" >&2
        done
    done
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    pids=()
done
echo "TLS bench $(date '+%Y-%m-%d %H:%M'), $cores cores, $reps rep(s) of $duration s, medians; OpenSSL $(openssl version | awk '{print $2}'), memcached $(memcached -V | awk '{print $2}')"
python3 - "$results" <<'PYTHON'
import sys, statistics, collections
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    rep, s, server, mode, rps, p99, errors = line.split("\t")
    runs[(s, server, mode)].append(float(rps))
names = {"S1": "S1 keep-alive version, 50", "S2": "S2 pipelined x16, 50", "S3": "S3 connect-per-request, 16"}
print("%-28s %-10s %12s %12s %9s" % ("scenario", "server", "plain req/s", "TLS req/s", "TLS/plain"))
for s in ("S1", "S2", "S3"):
    for server in ("carriaged", "memcached"):
        plain = statistics.median(runs[(s, server, "plain")]); tls = statistics.median(runs[(s, server, "TLS")])
        print("%-28s %-10s %12.0f %12.0f %8.2fx" % (names[s], server, plain, tls, tls / plain))
for s in ("S1", "S2", "S3"):
    print("%s carriaged TLS / memcached TLS: %.2fx" % (s, statistics.median(runs[(s, "carriaged", "TLS")]) / statistics.median(runs[(s, "memcached", "TLS")])))
PYTHON
