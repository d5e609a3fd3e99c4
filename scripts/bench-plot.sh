#!/usr/bin/env bash
# Draws a bench run's results (scripts/bench.sh calls it): from the raw runs
# (bench-results/bench-<date>.tsv) two PNG files beside them,
#   bench-<date>-throughput.png  requests/s per scenario and server (medians over reps)
#   bench-<date>-latency.png     p50 and p99 latency per scenario and server (medians)
# with gnuplot (Debian's gnuplot-nox, installed when missing and root).
#
#   scripts/bench-plot.sh bench-results/bench-<date>.tsv
set -euo pipefail
raw="${1:?usage: scripts/bench-plot.sh RAW.tsv}"
[ -f "$raw" ] || { echo "bench-plot: no such file $raw" >&2; exit 2; }
if ! command -v gnuplot >/dev/null 2>&1; then
    if [ "$(id -u)" -eq 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gnuplot-nox >&2 || true
    fi
    command -v gnuplot >/dev/null 2>&1 || { echo "bench-plot: gnuplot is not installed (apt-get install gnuplot-nox); no charts" >&2; exit 0; }
fi
base="${raw%.tsv}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Medians per scenario and server: one row per scenario (its short name, S1 ...), one
# column per server, for requests/s, p50 and p99. Scenarios without latency (M1, M2) skipped.
awk -F'\t' -v out="$work" '
    function median(list,   n, a, i, j, t) {
        n = split(list, a, " ")
        for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
        return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    NR == 1 { next }
    $7 == "" || $6 == 0 { next }
    {
        split($2, words, " "); s = words[1]
        if (!(s in seenS)) { seenS[s] = 1; scenarios[++ns] = s }
        if (!($3 in seenV)) { seenV[$3] = 1; servers[++nv] = $3 }
        rps[s, $3] = rps[s, $3] " " $5; p50[s, $3] = p50[s, $3] " " $6; p99[s, $3] = p99[s, $3] " " $7
    }
    END {
        header = "scenario"; for (j = 1; j <= nv; j++) header = header "\t" servers[j]
        print header > (out "/rps.dat"); print header > (out "/p50.dat"); print header > (out "/p99.dat")
        for (i = 1; i <= ns; i++) {
            s = scenarios[i]; a = s; b = s; c = s
            for (j = 1; j <= nv; j++) {
                v = servers[j]
                a = a "\t" ((s, v) in rps ? median(rps[s, v]) : "NaN")
                b = b "\t" ((s, v) in p50 ? median(p50[s, v]) : "NaN")
                c = c "\t" ((s, v) in p99 ? median(p99[s, v]) : "NaN")
            }
            print a > (out "/rps.dat"); print b > (out "/p50.dat"); print c > (out "/p99.dat")
        }
        print nv > (out "/servers")
    }' "$raw"
servers="$(cat "$work/servers")"
[ "${servers:-0}" -gt 0 ] || { echo "bench-plot: no runs with latency in $raw" >&2; exit 0; }

gnuplot <<PLOT
set terminal pngcairo size 1000,560 noenhanced font ",10"
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set key top right autotitle columnheader
set grid ytics
set xtics nomirror
set output "$base-throughput.png"
set title "Requests per second (median), $(basename "$base")"
set ylabel "requests/s"
plot for [c=2:$((servers + 1))] "$work/rps.dat" using c:xtic(1)
set output "$base-latency.png"
set multiplot layout 1,2 title "Latency (median of reps), $(basename "$base")"
set logscale y
set title "p50"
set ylabel "microseconds"
plot for [c=2:$((servers + 1))] "$work/p50.dat" using c:xtic(1)
set title "p99"
plot for [c=2:$((servers + 1))] "$work/p99.dat" using c:xtic(1)
unset multiplot
PLOT
echo "bench-plot: $base-throughput.png and $base-latency.png" >&2
