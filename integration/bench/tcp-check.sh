#!/usr/bin/env bash
# Benchmark (issue 6): N TCP_CHECKs with delay_loop 1 s against 100 loopback listeners, run by the
# checker's own code in one mio loop (`tcp_bench`), beside the kernel's floor for the same N
# connects a second with bare epoll and nothing else (`tcp_floor`). The figure is the CPU time
# (user + system) of the loop thread only: the accepting threads are not counted, but on loopback
# the server half of each handshake runs in softirq inside our connect()/close() and is counted.
# keepalived's checker cannot run here: without IPVS in the kernel it exits at start.
# Usage: tcp-check.sh   (env: N=10000 SECS=8 RUNS=3 SCALE=1000 (0: skip), NICE=-10 to run at a
#        higher priority on a loaded machine, BUILD=0 to use the examples already built,
#        CARGO_TARGET_DIR as for cargo)
set -euo pipefail
exec 2>&1 # one stream: the summaries go out through stderr while stdout carries figures
cd "$(dirname "$0")/../.."
N=${N:-10000}
SECS=${SECS:-8}
RUNS=${RUNS:-3}
SCALE=${SCALE:-1000}
if [ "${BUILD:-1}" != 0 ]; then
  cargo build --release -q -p keepalived-checker --example tcp_bench --example tcp_floor
fi
dir=${CARGO_TARGET_DIR:-target}/release/examples
nice=()
if [ -n "${NICE:-}" ]; then nice=(nice -n "$NICE"); fi

tw() { ss -Htan state time-wait | wc -l; }

# One run: prints "cpu_s user_s sys_s connections time_wait load1".
one() { # $1 example, $2 N
  local out load tw_mid
  load=$(cut -d' ' -f1 /proc/loadavg)
  "${nice[@]}" "$dir/$1" "$2" "$SECS" >"$tmp" &
  local pid=$!
  sleep $((SECS / 2 + 2))
  tw_mid=$(tw)
  wait "$pid"
  out=$(cat "$tmp")
  echo "  $out (load $load, TIME_WAIT mid-run $tw_mid)" >&2
  # "loop CPU X s ... (user U s, system S s); C events|connected"
  sed -E 's/.*loop CPU ([0-9.]+) s.*user ([0-9.]+) s, system ([0-9.]+) s\); ([0-9]+) (events|connected).*/\1 \2 \3 \4/' <<<"$out" |
    tr '\n' ' '
  echo "$tw_mid $load"
}

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT

bench() { # $1 N: alternates ours and the floor RUNS times, prints the medians and the ratio
  local n=$1 ours=() floor=()
  echo "== $n TCP connections a second, $SECS s measured per run, $RUNS runs each (alternating):"
  for _ in $(seq "$RUNS"); do
    ours+=("$(one tcp_bench "$n")")
    floor+=("$(one tcp_floor "$n")")
  done
  summary() { # name, runs...: median % of a core, user, sys, µs per connection
    local name=$1
    shift
    printf '%s\n' "$@" | awk -v s="$SECS" '{print 100*$1/s, $2, $3, ($4 > 0 ? 1e6*$1/$4 : 0)}' >"$tmp.sum"
    local pct user sys per
    pct=$(cut -d' ' -f1 "$tmp.sum" | median)
    user=$(cut -d' ' -f2 "$tmp.sum" | median)
    sys=$(cut -d' ' -f3 "$tmp.sum" | median)
    per=$(cut -d' ' -f4 "$tmp.sum" | median)
    rm -f "$tmp.sum"
    printf '%-6s median %5.1f %% of one core (user %s s, system %s s over %s s), %.1f us of CPU per connection\n' \
      "$name" "$pct" "$user" "$sys" "$SECS" "$per" >&2
    echo "$pct $per"
  }
  local o f
  o=$(summary ours "${ours[@]}")
  f=$(summary floor "${floor[@]}")
  # The table row for run-all.sh: keepalived's checker cannot run here (no IPVS), so the kernel
  # floor stands in the "keepalived" column only as a reference, said in the row's name.
  echo "RESULT id=tcp_check_$n unit=%core keepalived=none ours=${o%% *} ratio=n/a goal=<5 raw_keepalived= raw_ours=floor:${f%% *}"
  awk -v o="$o" -v f="$f" 'BEGIN {split(o, a, " "); split(f, b, " ");
    printf "ratio  ours / floor: %.2f by CPU share, %.2f by CPU per connection\n",
      (b[1] > 0 ? a[1] / b[1] : 0), (b[2] > 0 ? a[2] / b[2] : 0)}'
}

bench "$N"
if [ "$SCALE" != 0 ]; then bench "$SCALE"; fi
if [ -e /proc/net/ip_vs ]; then
  echo "keepalived 2.2: not run by this script (its checker needs the same config with IPVS programmed)"
else
  echo "keepalived 2.2: cannot run here: no IPVS in this kernel, its checker exits at start (\"IPVS: Can't initialize ipvs\")"
fi
