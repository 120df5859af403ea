#!/usr/bin/env bash
# Benchmark (not a test, not in `make test`): SIGHUP reload of a 1,000-instance config with one
# VIP changed, keepalived-rs beside keepalived 2.2 in the same run. Each daemon runs alone in a
# throwaway namespace with 4 veth links (250 VRIDs each, a VRID is unique per interface), every
# instance MASTER with one VIP. Measured per reload: time from the SIGHUP until the parent logs
# "Reload complete" (both daemons log it once every child is done), time until the new VIP is
# on the link, and VIPs lost: deletions of unchanged VIPs seen by `ip monitor address` (kernel
# events, nothing missed) and the worst 10 ms poll of the unchanged VIPs.
# Usage: reload.sh [KEEPALIVED_RS_BINARY] [RELOADS]   (root; default target/release/keepalived-rs, 3)
# KEEP=1 keeps the work directory (configs, logs, ip monitor output). Timings depend heavily on
# the machine's load: both daemons run in the same invocation, one after the other.
set -euo pipefail
rs=$(realpath "${1:-${KEEPALIVED_RS_BIN:-target/release/keepalived-rs}}")
reloads=${2:-3}
ka=${KEEPALIVED_BIN:-/usr/sbin/keepalived}
N=1000; PER_IF=250; IFS_N=$(( (N + PER_IF - 1) / PER_IF ))
top=$(mktemp -d /tmp/krs-bench-reload.XXXXXX)
namespaces=()
cleanup() {
  for ns in "${namespaces[@]}"; do
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
  done
  jobs -p | xargs -r kill 2>/dev/null || true
  if [ -n "${KEEP:-}" ]; then echo "kept $top" >&2; else rm -rf "$top"; fi
}
trap cleanup EXIT

# Instance i: link e(i / 250), VRID (i % 250) + 1, VIP 10.(100 + link).(VRID).1/32; the first
# instance's VIP is 10.100.1.1 in config A and 10.99.0.1 in config B.
write_config() { # $1 file, $2 A|B
  local i link vrid vip
  {
    echo "global_defs { router_id bench }"
    for ((i = 0; i < N; i++)); do
      link=$((i / PER_IF)); vrid=$((i % PER_IF + 1)); vip="10.$((100 + link)).$vrid.1"
      if ((i == 0)) && [ "$2" = B ]; then vip=10.99.0.1; fi
      printf 'vrrp_instance I%d {\n state MASTER\n interface e%d\n virtual_router_id %d\n priority 150\n advert_int 1\n virtual_ipaddress {\n  %s/32\n }\n}\n' \
        "$i" "$link" "$vrid" "$vip"
    done
  } >"$1"
}

vip_count() { # $1 ns: unchanged VIPs present (10.10x.*, without 10.100.1.1)
  ip -n "$1" -o -4 addr show | grep -E 'inet 10\.10[0-9]\.' | grep -vc 'inet 10\.100\.1\.1/' || true
}

now_ns() { date +%s%N; }

run_one() { # $1 label, $2 binary -> appends "label reload_ms new_vip_ms lost missing all_us" to results
  local label=$1 bin=$2 ns="krsb-rl-$1-$$" dir="$top/$1"
  mkdir -p "$dir"; namespaces+=("$ns" "$ns-peer")
  ip netns add "$ns"; ip netns add "$ns-peer"
  ip -n "$ns" link set lo up
  for ((l = 0; l < IFS_N; l++)); do
    ip -n "$ns" link add "e$l" type veth peer name "p$l" netns "$ns-peer"
    ip -n "$ns" addr add "192.168.$l.1/24" dev "e$l"
    ip -n "$ns" link set "e$l" up; ip -n "$ns-peer" link set "p$l" up
  done
  write_config "$dir/A.conf" A; write_config "$dir/B.conf" B
  cp "$dir/A.conf" "$dir/keepalived.conf"
  TMPDIR="$dir" ip netns exec "$ns" "$bin" -n -l -D -P -f "$dir/keepalived.conf" \
    -p "$dir/k.pid" -r "$dir/v.pid" -c "$dir/c.pid" >"$dir/log" 2>&1 &
  local daemon=$!
  local t=0
  until [ "$(vip_count "$ns")" -ge $((N - 1)) ]; do
    sleep 0.2; t=$((t + 1))
    if ((t > 1500)); then echo "$label: not all VIPs up after 300 s ($(vip_count "$ns"))" >&2; tail "$dir/log" >&2; return 1; fi
  done
  sleep 1
  ip -n "$ns" -ts monitor address >"$dir/mon.log" 2>/dev/null &
  local mon=$!
  ( while :; do vip_count "$ns"; sleep 0.01; done ) >"$dir/poll.log" 2>/dev/null &
  local poller=$!
  sleep 0.3
  local pid; pid=$(cat "$dir/k.pid")
  local times=() vip_times=() cfg=B
  for ((r = 0; r < reloads; r++)); do
    cp "$dir/$cfg.conf" "$dir/keepalived.conf.new"; mv "$dir/keepalived.conf.new" "$dir/keepalived.conf"
    local want=10.99.0.1; [ "$cfg" = A ] && want=10.100.1.1
    # Watched without polling: `tail -F` follows the log through inotify and a grep already
    # running exits on the line, so the time taken is the daemon's, not that of forking `ip`
    # and `grep` over 1,000 addresses every few ms (a 5-18 ms loop that also competed with
    # the daemon for the 2 cores). The new VIP's time is the kernel's, from `ip -ts monitor`.
    local t0 t1 tv follower waiter
    exec 3< <(exec tail -n 0 -s 0.001 -F "$dir/log" 2>/dev/null)
    follower=$!
    timeout 30 grep -m1 -q 'Reload complete' <&3 &
    waiter=$!
    sleep 0.1
    t0=$(now_ns)
    kill -HUP "$pid"
    if ! wait "$waiter"; then
      echo "$label: no 'Reload complete' after 30 s" >&2
      kill "$follower" 2>/dev/null || true; exec 3<&-
      return 1
    fi
    t1=$(now_ns)
    kill "$follower" 2>/dev/null || true; exec 3<&-
    local added=""
    for _ in $(seq 300); do
      # No line yet is not an error: under `set -e -o pipefail` a grep that finds nothing
      # would end the whole run (one run of run-all.sh ended so, with no message).
      added=$({ grep -v 'Deleted' "$dir/mon.log" | grep "inet $want/" || true; } | tail -1 | sed -n 's/^\[\([^]]*\)\].*/\1/p')
      [ -n "$added" ] && (( $(date -d "$added" +%s%N) >= t0 )) && break
      added=""; sleep 0.1
    done
    if [ -n "$added" ]; then tv=$(date -d "$added" +%s%N); else tv=$t0; fi
    times+=("$(( (t1 - t0) / 1000 ))"); vip_times+=("$(( (tv - t0) / 1000 ))")
    sleep 2
    [ "$cfg" = B ] && cfg=A || cfg=B
  done
  kill "$poller" 2>/dev/null || true; wait "$poller" 2>/dev/null || true
  kill "$mon" 2>/dev/null || true; wait "$mon" 2>/dev/null || true
  local lost min
  lost=$(grep 'Deleted' "$dir/mon.log" | grep -E 'inet 10\.10[0-9]\.' | grep -vc 'inet 10\.100\.1\.1/' || true)
  # sed, not head: head leaves after one line and sort, still writing, would die of SIGPIPE (exit 141 with pipefail)
  min=$(sort -n "$dir/poll.log" | sed -n 1p)
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$daemon" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$daemon" 2>/dev/null || true
  med() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]/1000}'; }
  echo "$label $(med "${times[@]}") $(med "${vip_times[@]}") $lost $((N - 1 - min)) $(printf '%s,' "${times[@]}")" >>"$top/results"
}

echo "== $N instances on $IFS_N links, $reloads reloads each (config A <-> B: one VIP changed)"
run_one ours "$rs"
ours=$(grep '^ours ' "$top/results")
theirs=""
if [ -x "$ka" ]; then run_one keepalived "$ka"; theirs=$(grep '^keepalived ' "$top/results"); fi
cat "$top/results"
echo
printf '%-12s %18s %18s %22s %24s\n' daemon "reload done (ms)" "new VIP up (ms)" "unchanged VIPs deleted" "worst poll: VIPs missing"
for line in "$ours" "$theirs"; do
  [ -z "$line" ] && continue
  read -r l rt vt lost miss _ <<<"$line"
  printf '%-12s %18s %18s %22s %24s\n' "$l" "$rt" "$vt" "$lost" "$miss"
done
read -r _ ours_rt _ _ _ ours_raw <<<"$ours"
ka_rt=none; ka_raw=""
if [ -n "$theirs" ]; then
  read -r _ ka_rt _ _ _ ka_raw <<<"$theirs"
  awk -v a="$ka_rt" -v b="$ours_rt" 'BEGIN { if (b > 0) printf "ratio keepalived / keepalived-rs (median reload time): %.2fx\n", a / b }'
fi
ms_csv() { tr ',' '\n' <<<"$1" | awk 'NF { printf "%s%.1f", (n++ ? "," : ""), $1 / 1000 }'; }
# The line run-all.sh collects (see lib.sh): median reload time, ratio ours / keepalived.
echo "RESULT id=reload_1000 unit=ms keepalived=$ka_rt ours=$ours_rt ratio=$(awk -v a="$ka_rt" -v b="$ours_rt" 'BEGIN { if (a == "none" || a + 0 == 0) print "n/a"; else printf "%.2f", b / a }') goal=<=20 raw_keepalived=$(ms_csv "$ka_raw") raw_ours=$(ms_csv "$ours_raw")"
