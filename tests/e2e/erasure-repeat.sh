#!/usr/bin/env bash
# Runs tests/e2e/erasure.mjs N times, each against a fresh relay with device tokens, and
# counts passes: the erasure grep test depends on LevelDB compactions, so one pass says
# little. Needs a debug relay (target/debug/paktum-sync-server) and a built dist/.
#   bash tests/e2e/erasure-repeat.sh [N]
cd "$(dirname "$0")/../.."
N=${1:-5}; pass=0; fail=0
BIN=target/debug/paktum-sync-server
for i in $(seq 1 $N); do
  D=$(mktemp -d target/erasure-repeat-XXXX); PORT=$((19100 + i))
  $BIN --data-dir $D admin create-team --pact e2e --team enrolled >/dev/null 2>&1
  inv() { $BIN --data-dir $D admin invite --team enrolled --name "$1" --role "$2" --url http://127.0.0.1:$PORT 2>/dev/null | grep -oE 'code=[A-Za-z0-9-]+' | head -1 | cut -d= -f2; }
  C1=$(inv Wim worker); C2=$(inv Zoe worker); C3=$(inv Cleo coordinator); C4=$(inv Cora coordinator)
  $BIN --listen 127.0.0.1:$PORT --dist dist --data-dir $D > $D/relay.log 2>&1 &
  RP=$!
  sleep 1.5
  if node tests/e2e/erasure.mjs --base http://127.0.0.1:$PORT --codes $C1,$C2,$C3 --coordinator-code $C4 --artifacts target/erasure-repeat --data-dir "$PWD/$D" --profiles "$PWD/$D/profiles" > $D/test.log 2>&1; then pass=$((pass+1)); echo "run $i ok"; else fail=$((fail+1)); echo "run $i FAIL: $(grep -A2 FAIL $D/test.log | head -3)"; fi
  kill $RP; wait $RP 2>/dev/null; [ -z "$KEEP" ] && rm -rf "$D"
done
echo "pass=$pass fail=$fail"
