#!/usr/bin/env bash
# Quality and time of tessera-link on generated, labelled data.
#   bash tools/link/bench.sh [sizes...]     (default: 10000 100000 1000000)
# Writes a markdown table to stdout. Needs: cargo build --release -p tessera-link
set -euo pipefail
cd "$(dirname "$0")/../.."
L=target/release/tessera-link
M=tools/link/examples/mapping.toml
W=$(mktemp -d)
sizes=${*:-10000 100000 1000000}
echo "| records | NHS number | precision | recall | F1 | dedupe time | peak memory |"
echo "|---|---|---|---|---|---|---|"
for n in $sizes; do
  for scenario in present missing30 blanked; do
    case $scenario in
      present)   args=(--national-id-missing 0) ;;
      missing30) args=(--national-id-missing 0.3) ;;
      blanked)   args=(--no-national-id) ;;
    esac
    $L generate --records "$n" --seed 42 "${args[@]}" --out "$W/d.csv" 2>/dev/null
    t=$( { /usr/bin/time -f "%e %M" $L --config $M --dedupe "$W/d.csv" --out "$W/p.csv" 2>&1 >/dev/null; } | tail -1)
    q=$($L evaluate --truth "$W/d.csv" --pairs "$W/p.csv" | tail -1)
    read -r secs kb <<<"$t"
    read -r _ p _ r _ f <<<"$q"
    echo "| $n | $scenario | $p | $r | $f | ${secs}s | $((kb / 1024)) MiB |"
  done
done
$L generate --records 12000 --seed 7 --left "$W/l.csv" --right "$W/r.csv" 2>/dev/null
head -5001 "$W/l.csv" > "$W/l5k.csv"; head -5001 "$W/r.csv" > "$W/r5k.csv"
t=$( { /usr/bin/time -f "%e" $L --config $M --left "$W/l5k.csv" --right "$W/r5k.csv" --out "$W/lp.csv" 2>&1 >/dev/null; } | tail -1)
q=$($L evaluate --truth "$W/l5k.csv" --right-truth "$W/r5k.csv" --pairs "$W/lp.csv" | tail -1)
echo
echo "link 5,000 × 5,000 (NHS number 30% missing): ${t}s wall; $q"
rm -rf "$W"
