#!/usr/bin/env bash
# Benchmark (not a test): parse + validate a generated config with 10,000 vrrp_instances and
# 1,000 virtual_servers, keepalived-rs beside keepalived 2.2 (`-t`) on the same file, in a
# throwaway network namespace holding the 40 interfaces the config names.
# Usage: config-parse.sh KEEPALIVED_RS_BINARY PARSE_BENCH_BINARY
set -euo pipefail
rs=$(realpath "$1"); gen=$(realpath "$2")
ns="krs-bench-$$"; dir=$(mktemp -d)
cleanup() { ip netns del "$ns" 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT

echo "== in-process (load_str, no process start-up):"
"$gen" --write "$dir/bench.conf"; echo

ip netns add "$ns"
for i in $(seq 0 39); do ip -n "$ns" link add "bench$i" type veth peer name "benchp$i"; ip -n "$ns" link set "bench$i" up; ip -n "$ns" link set "benchp$i" up; done

best() { # best and median wall time in ms of 5 runs of "$@" (exit code ignored)
  local t=()
  for _ in 1 2 3 4 5; do
    local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s%N)
    t+=($(( (e - s) / 1000 )))
  done
  printf '%s\n' "${t[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.1f %.1f\n", a[1]/1000, a[3]/1000}'
}
cd "$dir"
read -r rs_best rs_med < <(best ip netns exec "$ns" "$rs" -t -i bench -f bench.conf)
echo "== keepalived-rs -t (whole process): best ${rs_best} ms, median ${rs_med} ms"
if [ -x /usr/sbin/keepalived ]; then
  read -r ka_best ka_med < <(best ip netns exec "$ns" env TMPDIR="$dir" /usr/sbin/keepalived -t -i bench -f bench.conf)
  ip netns exec "$ns" env TMPDIR="$dir" /usr/sbin/keepalived -t -i bench -f bench.conf >/dev/null 2>&1 && ka_rc=0 || ka_rc=$?
  echo "== keepalived 2.2 -t (whole process): best ${ka_best} ms, median ${ka_med} ms"
  awk -v a="$ka_best" -v b="$rs_best" 'BEGIN { if (b > 0) printf "== ratio keepalived / keepalived-rs (best): %.1fx\n", a / b }'
else
  echo "== keepalived not installed: no comparison"
fi
ip netns exec "$ns" "$rs" -t -i bench -f bench.conf >/dev/null 2>&1 && rs_rc=0 || rs_rc=$?
echo "== exit codes: keepalived-rs $rs_rc, keepalived ${ka_rc:-n/a} (same verdict expected)"
# The line run-all.sh collects (see lib.sh): best of 5 whole-process runs, ratio ours / keepalived.
echo "RESULT id=parse_10000 unit=ms keepalived=${ka_best:-none} ours=$rs_best ratio=$(awk -v a="${ka_best:-0}" -v b="$rs_best" 'BEGIN { if (a + 0 == 0) print "n/a"; else printf "%.2f", b / a }') goal=<100 raw_keepalived=best:${ka_best:-none},median:${ka_med:-none},rc:${ka_rc:-none} raw_ours=best:$rs_best,median:$rs_med,rc:$rs_rc"
