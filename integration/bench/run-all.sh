#!/usr/bin/env bash
# `make bench`: every measure of issue 7's table, keepalived 2.2 beside keepalived-rs, written to
# integration/bench/results.md (date, kernel, versions, commit, cores, load before/after, one
# table, every script's full output with its raw numbers).
#   bash integration/bench/run-all.sh KEEPALIVED_RS_BINARY PARSE_BENCH_BINARY
# Environment: N (runs per daemon for kill -9 / SIGTERM, default 5), HOLD (fast-advert hold,
# default 600 s), CPU_SECS (default 60), RELOADS (default 3), ONLY="sigterm scale ..." (a subset
# of the script names below), RESULTS (output file). Needs root; figures need a quiet machine.
# Every script prints "RESULT id=.. unit=.. keepalived=.. ours=.. ratio=.. goal=.. raw_..=.." lines
# (see lib.sh); a script that fails is reported and the others still run. tcp-check.sh (owned by
# another helper) is run as `bash tcp-check.sh KEEPALIVED_RS_BINARY` when present; its RESULT
# lines, if any, join the table, and its whole output is kept below it.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rs=$(realpath "${1:-${KEEPALIVED_RS_BIN:-$root/target/release/keepalived-rs}}")
gen=$(realpath "${2:-$root/target/release/examples/parse_bench}")
ka=${KEEPALIVED_BIN:-/usr/sbin/keepalived}
out=${RESULTS:-$here/results.md}
scripts=${ONLY:-config-parse sigterm failover-kill9 reload scale fast-advert tcp-check}
logdir=$(mktemp -d /tmp/krsb-all.XXXXXX)
trap 'rm -rf "$logdir"' EXIT

load() { cut -d' ' -f1-3 /proc/loadavg; }
# The tree may change while the scripts run (tcp-check.sh builds from it): name the commit now.
commit="commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$root" diff --quiet HEAD 2>/dev/null || echo ' (+ uncommitted changes)')"
load_before=$(load); started=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
for s in $scripts; do
  f=$here/$s.sh
  if [ ! -f "$f" ]; then echo "== $s.sh: not present, skipped" | tee "$logdir/$s.log"; continue; fi
  echo "== $s.sh ($(date -u +%H:%M:%S))"
  case $s in
    config-parse) args=("$rs" "$gen") ;;
    reload) args=("$rs" "${RELOADS:-3}") ;;
    *) args=("$rs") ;;
  esac
  s0=$(date +%s)
  bash "$f" "${args[@]}" 2>&1 | tee "$logdir/$s.log"
  rc=${PIPESTATUS[0]}
  echo "$s $rc $(( $(date +%s) - s0 ))" >>"$logdir/status"
done
load_after=$(load)

describe() {
  case $1 in
    kill9_over_master_down) echo "kill -9 master until the backup holds the VIP, minus master_down (3 x 1 s + skew), median" ;;
    kill9_wire_over_master_down) echo "kill -9: backup's first advert after the master's last, minus master_down" ;;
    fast_advert_smallest_held) echo "smallest VRRPv3 advert_int held, 0 spurious transitions, 2 busy loops (s)" ;;
    fast_advert_worst_gap) echo "worst advert gap during that hold" ;;
    fast_advert_failover) echo "kill -9 failover at that advert_int (VIP on the backup after the master's last advert)" ;;
    fast_advert_failover_wire) echo "same, backup's first advert after the master's last" ;;
    sigterm_handover) echo "SIGTERM on master until the backup holds the VIP, median" ;;
    sigterm_prio0_advert) echo "SIGTERM until the priority-0 advert" ;;
    sigterm_vip_released) echo "SIGTERM until the master's VIP is released (1 instance)" ;;
    sigterm_exit) echo "SIGTERM until every process exited (1 instance)" ;;
    sigterm_exit_after_release) echo "exit after the VIP is released (1 instance)" ;;
    sigterm_vip_released_1000) echo "SIGTERM until the last of 1,000 VIPs is released" ;;
    sigterm_exit_1000) echo "SIGTERM until exit, 1,000 instances" ;;
    sigterm_exit_after_release_1000) echo "exit after the VIPs are released, 1,000 instances" ;;
    cpu_master_1000) echo "CPU of the MASTER's processes, 1,000 instances, advert_int 1 (% of one core, /proc stat)" ;;
    cpu_backup_1000) echo "CPU of the BACKUP's processes, same" ;;
    cpu_master_1000_schedstat) echo "same, MASTER, from schedstat (ns resolution)" ;;
    cpu_backup_1000_schedstat) echo "same, BACKUP, from schedstat" ;;
    rss_1) echo "RSS of all processes (master), 1 instance (sum of VmRSS)" ;;
    rss_1000) echo "RSS of all processes (master), 1,000 instances (sum of VmRSS)" ;;
    pss_1) echo "PSS of all processes (master), 1 instance (shared pages split, not counted per process)" ;;
    pss_1000) echo "PSS of all processes (master), 1,000 instances" ;;
    anon_1) echo "anonymous memory of all processes (master), 1 instance" ;;
    anon_1000) echo "anonymous memory of all processes (master), 1,000 instances" ;;
    tcp_check_10000) echo "10,000 TCP_CHECKs, delay_loop 1 s: CPU of the checker loop (keepalived's checker cannot run without IPVS; the bare-epoll floor is in the raw column)" ;;
    tcp_check_1000) echo "1,000 TCP_CHECKs, delay_loop 1 s: CPU of the checker loop" ;;
    rss_backup_1) echo "RSS of all processes (backup), 1 instance" ;;
    rss_backup_1000) echo "RSS of all processes (backup), 1,000 instances" ;;
    reload_1000) echo "SIGHUP reload of 1,000 instances until 'Reload complete', median" ;;
    parse_10000) echo "parse + validate a 10,000-instance config (-t, whole process, best of 5)" ;;
    *) echo "$1" ;;
  esac
}

met() { # goal value
  local g=$1 v=$2
  case $g in -|"") echo "—"; return ;; esac
  [[ $v =~ ^-?[0-9.]+$ ]] || { echo "no"; return; }
  awk -v g="$g" -v v="$v" 'BEGIN {
    if (g ~ /^<=/) ok = v <= substr(g, 3) + 0; else if (g ~ /^</) ok = v < substr(g, 2) + 0;
    else if (g ~ /^>=/) ok = v >= substr(g, 3) + 0; else if (g ~ /^>/) ok = v > substr(g, 2) + 0; else ok = 0
    print ok ? "yes" : "no" }'
}

field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }

{
  echo "# keepalived-rs benchmarks (issue 7)"
  echo
  echo "Written by \`integration/bench/run-all.sh\` (\`make bench\`). Rerun it on a quiet machine for final figures."
  echo
  echo "- date: $started (finished $(date -u '+%H:%M:%S UTC'))"
  echo "- kernel: $(uname -r); machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GB", $2 / 1048576}' /proc/meminfo)"
  echo "- load average (1/5/15 min): before $load_before, after $load_after"
  echo "- keepalived: $(if [ -x "$ka" ]; then { "$ka" --version 2>&1 || true; } | head -n 1; else echo "not installed"; fi)"
  echo "- keepalived-rs: $rs, $commit"
  echo "- settings: N=${N:-5} HOLD=${HOLD:-600} CPU_SECS=${CPU_SECS:-60} RELOADS=${RELOADS:-3}"
  echo
  echo "| measure | keepalived | keepalived-rs | ratio (rs / ka) | goal | met? |"
  echo "|---|---|---|---|---|---|"
  for s in $scripts; do
    [ -f "$logdir/$s.log" ] || continue
    grep '^RESULT ' "$logdir/$s.log" | while read -r line; do
      id=$(field id "$line"); unit=$(field unit "$line"); goal=$(field goal "$line")
      k=$(field keepalived "$line"); o=$(field ours "$line"); r=$(field ratio "$line")
      m=$(met "$goal" "$o")
      if [ "$id" = fast_advert_smallest_held ] && [ "${HOLD:-600}" -lt 600 ] && [ "$m" = yes ]; then m="yes (held ${HOLD} s, not 600)"; fi
      g=$goal; [ "$g" = - ] && g="" || g="$g $unit"
      echo "| $(describe "$id") | ${k:-—} $unit | ${o:-—} $unit | $r | $g | $m |"
    done
  done
  echo
  echo "Ratio = keepalived-rs / keepalived (below 1 = keepalived-rs is smaller/faster)."
  echo
  echo "## Scripts"
  echo
  echo "| script | exit status | seconds |"
  echo "|---|---|---|"
  while read -r s rc secs; do echo "| $s.sh | $rc | $secs |"; done <"$logdir/status" 2>/dev/null
  echo
  echo "## Raw output of every script"
  for s in $scripts; do
    [ -f "$logdir/$s.log" ] || continue
    echo
    echo "### $s.sh"
    echo
    echo '```'
    grep -v 'Compiling\|Finished' "$logdir/$s.log"
    echo '```'
  done
} >"$out"
echo "== wrote $out"
