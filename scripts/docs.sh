#!/usr/bin/env bash
# Generates the documentation: man pages for carriaged and carriage-load (from their
# argument parsers, with swift-argument-parser's generate-manual plugin) and WorkerPool's
# DocC archive (swift-docc-plugin), and checks them: every daemon flag is in the man page,
# and DocC has no warning.
#
#   scripts/docs.sh [DIR]     (default: .build/docs)
#
# Read them with: man -l DIR/man/carriaged.1
#                 (DocC) DIR/WorkerPool.doccarchive, or `swift package --disable-sandbox
#                 preview-documentation --target WorkerPool`
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-.build/docs}"
mkdir -p "$out/man"
swift package --allow-writing-to-directory "$out/man" generate-manual --output-directory "$out/man" >&2
swift package --allow-writing-to-directory "$out" generate-documentation --target WorkerPool \
    --warnings-as-errors --output-path "$out/WorkerPool.doccarchive" >&2

status=0
# Every --flag of carriaged's --help is in its man page.
flags="$(swift run -c release carriaged --help 2>/dev/null | grep -oE -- '--[a-z][a-z-]+' | sort -u)"
for flag in $flags; do
    # mdoc writes `--metrics-port` as `Fl -metrics-port`.
    grep -qF -- "Fl ${flag#-}" "$out/man/carriaged.1" \
        || { echo "docs: $flag is missing from carriaged.1" >&2; status=1; }
done
[ -d "$out/WorkerPool.doccarchive" ] || { echo "docs: no DocC archive" >&2; status=1; }
[ "$status" -eq 0 ] && echo "docs: man pages in $out/man, WorkerPool's DocC in $out/WorkerPool.doccarchive"
exit "$status"
