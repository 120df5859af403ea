#!/usr/bin/env bash
# Benchmark (measures 4, 5 and 7 at scale of issue 7): CPU of the MASTER's and of the BACKUP's
# processes with 1,000 instances at advert_int 1, RSS of all processes with 1 and 1,000
# instances, and SIGTERM of the 1,000-instance master until its VIPs are released and it exits.
# keepalived 2.2 first, then keepalived-rs, same lab, same configs.
# Lab: 4 bridges, two nodes, each with eth0..eth3 (a VRID is unique per interface, so 250 VRIDs
# per link); instance i: eth(i / 250), VRID (i % 250) + 1, VIP 10.(100 + link).VRID.1/32;
# n1 priority 150 state MASTER, n2 priority 100 state BACKUP (started once n1 holds every VIP).
# Daemons run without -D (no log line per GARP).
# CPU = (utime + stime) of every process of the daemon (/proc/PID/stat, clock ticks) over
# CPU_SECS (default 60) once all VIPs are up and SETTLE (default 5) s passed, in % of one core;
# /proc/PID/task/*/schedstat (ns) gives the same figure at a finer resolution (raw lines).
# RSS = sum of VmRSS (/proc/PID/status) of every process of the daemon (the lab's method: the
# parent and the VRRP child with --vrrp), on the master, after SETTLE. Pages shared between the
# processes (binary text, libc) count once per process there, so the PSS sum (shared pages split
# between their users) and the anonymous memory (heap, stacks) are printed too.
# Usage: scale.sh KEEPALIVED_RS_BINARY   (root; KEEP=1 keeps files)
source "$(dirname "$0")/lib.sh"
bench_init sc "${1:-${KEEPALIVED_RS_BIN:-target/release/keepalived-rs}}"
N=${INSTANCES:-1000}; PER_IF=250; CPU_SECS=${CPU_SECS:-60}; SETTLE=${SETTLE:-5}
HZ=$(getconf CLK_TCK)

write_conf() { # $1 dir, $2 instances, $3 priority, $4 state
  mkdir -p "$1"
  local i link vrid
  {
    echo "global_defs { router_id bench }"
    for ((i = 0; i < $2; i++)); do
      link=$((i / PER_IF)); vrid=$((i % PER_IF + 1))
      printf 'vrrp_instance I%d {\n state %s\n interface eth%d\n virtual_router_id %d\n priority %d\n advert_int 1\n virtual_ipaddress {\n  10.%d.%d.1/32\n }\n}\n' \
        "$i" "$4" "$link" "$vrid" "$3" "$((100 + link))" "$vrid"
    done
  } >"$1/keepalived.conf"
}

vips() { ip -n "$(ns_of "$1")" -o -4 addr show | grep -c 'inet 10\.1[0-9][0-9]\.' || true; }

drop_vips() {
  local n
  for n in n1 n2; do
    ip -n "$(ns_of $n)" -o -4 addr show | awk '$4 ~ /^10\.1/ {print "addr del " $4 " dev " $2}' >"$WORK/del.batch"
    [ -s "$WORK/del.batch" ] && ip -n "$(ns_of $n)" -batch "$WORK/del.batch" 2>/dev/null || true
  done
}

wait_vips() { # $1 node, $2 count, $3 timeout s
  local end=$(( $(date +%s) + $3 ))
  until [ "$(vips "$1")" -ge "$2" ]; do
    if (( $(date +%s) > end )); then echo "bench: $1 has $(vips "$1") of $2 VIPs after $3 s" >&2; tail -n 5 "$WORK"/*/*/daemon.log >&2; return 1; fi
    sleep 0.2
  done
}

stop_all() { # SIGTERM both daemons, wait, then kill what is left
  local n
  for n in n1 n2; do [ -n "${DPID[$n]:-}" ] && kill -TERM "${DPID[$n]}" 2>/dev/null || true; done
  for _ in $(seq 50); do [ -z "$(daemon_pids n1)$(daemon_pids n2)" ] && break; sleep 0.1; done
  for n in n1 n2; do daemon_kill9 "$n" >/dev/null; done
  drop_vips
}

lab_new 4; lab_node n1 1; lab_node n2 2
declare -A R=()
for kind in $(kinds); do
  d=$WORK/$kind
  echo "== $kind: 1 instance"
  write_conf "$d/one/n1" 1 150 MASTER; write_conf "$d/one/n2" 1 100 BACKUP
  daemon_start "$kind" n1 "$d/one/n1"; sleep 0.3; daemon_start "$kind" n2 "$d/one/n2"
  wait_vips n1 1 15; sleep "$SETTLE"
  R[$kind,rss1]=$(daemon_rss_kb n1); R[$kind,rss1b]=$(daemon_rss_kb n2)
  R[$kind,pss1]=$(daemon_smaps_kb n1 Pss); R[$kind,anon1]=$(daemon_smaps_kb n1 Anonymous)
  echo "   RSS: master ${R[$kind,rss1]} kB ($(daemon_pids n1 | wc -w) processes; PSS ${R[$kind,pss1]} kB, anonymous ${R[$kind,anon1]} kB), backup ${R[$kind,rss1b]} kB"
  stop_all

  echo "== $kind: $N instances"
  write_conf "$d/many/n1" "$N" 150 MASTER; write_conf "$d/many/n2" "$N" 100 BACKUP
  t0=$(date +%s%N)
  # The backup starts once the master holds every VIP: the measure is the steady state, not a
  # start-up race between 1,000 pairs of instances on a loaded machine.
  daemon_start "$kind" n1 "$d/many/n1"
  wait_vips n1 "$N" 180
  echo "   all $N VIPs on the master $(( ($(date +%s%N) - t0) / 1000000 )) ms after start"
  daemon_start "$kind" n2 "$d/many/n2"
  sleep "$SETTLE"
  [ "$(vips n2)" = 0 ] || echo "   WARNING: the backup holds $(vips n2) VIPs"
  m0=$(daemon_cpu_ticks n1); b0=$(daemon_cpu_ticks n2); mn0=$(daemon_cpu_ns n1); bn0=$(daemon_cpu_ns n2); w0=$(date +%s%N)
  sleep "$CPU_SECS"
  m1=$(daemon_cpu_ticks n1); b1=$(daemon_cpu_ticks n2); mn1=$(daemon_cpu_ns n1); bn1=$(daemon_cpu_ns n2); w1=$(date +%s%N)
  R[$kind,cpum]=$(awk -v d=$((m1 - m0)) -v hz="$HZ" -v w=$((w1 - w0)) 'BEGIN { printf "%.3f", d / hz / (w / 1e9) * 100 }')
  R[$kind,cpub]=$(awk -v d=$((b1 - b0)) -v hz="$HZ" -v w=$((w1 - w0)) 'BEGIN { printf "%.3f", d / hz / (w / 1e9) * 100 }')
  R[$kind,cpumns]=$(awk -v d=$((mn1 - mn0)) -v w=$((w1 - w0)) 'BEGIN { printf "%.3f", d / w * 100 }')
  R[$kind,cpubns]=$(awk -v d=$((bn1 - bn0)) -v w=$((w1 - w0)) 'BEGIN { printf "%.3f", d / w * 100 }')
  [ "$(vips n2)" = 0 ] || echo "   WARNING: the backup holds $(vips n2) VIPs"
  R[$kind,rssN]=$(daemon_rss_kb n1); R[$kind,rssNb]=$(daemon_rss_kb n2)
  R[$kind,pssN]=$(daemon_smaps_kb n1 Pss); R[$kind,anonN]=$(daemon_smaps_kb n1 Anonymous)
  echo "   CPU over $(( (w1 - w0) / 1000000 )) ms: master $((m1 - m0)) ticks = ${R[$kind,cpum]} % (schedstat ${R[$kind,cpumns]} %), backup $((b1 - b0)) ticks = ${R[$kind,cpub]} % (schedstat ${R[$kind,cpubns]} %)"
  echo "   RSS: master ${R[$kind,rssN]} kB (PSS ${R[$kind,pssN]} kB, anonymous ${R[$kind,anonN]} kB), backup ${R[$kind,rssNb]} kB"

  mon_start n1 "$d/mon1.txt"; mon=$LAST_BG; sleep 0.5
  # shellcheck disable=SC2046
  out=$("${TOOL[@]}" signal TERM --first-only --wait-gone ${DPID[n1]} $(daemon_pids n1))
  ts=$(sed -n 's/^t_signal=//p' <<<"$out"); tg=$(sed -n 's/^t_gone=//p' <<<"$out")
  sleep 0.3; bg_stop "$mon"; unset "DPID[n1]"
  tr=$("${TOOL[@]}" addr "$d/mon1.txt" '10.1*' deleted --after "$ts" --last)
  R[$kind,stop]=$(ms_between "$ts" "$tg"); R[$kind,rel]=$(ms_between "$ts" "$tr"); R[$kind,after]=$(ms_between "$tr" "$tg")
  echo "   SIGTERM of the master: last VIP released ${R[$kind,rel]} ms, exit ${R[$kind,stop]} ms (${R[$kind,after]} ms after the release)"
  stop_all
done
mb() { awk -v k="$1" 'BEGIN { if (k == "") print ""; else printf "%.1f", k / 1024 }'; }
line() { # id unit goal key [scale-fn]
  local a="" b; b=${R[ours,$4]}
  have_keepalived && a=${R[keepalived,$4]}
  if [ "${5:-}" = mb ]; then a=$(mb "$a"); b=$(mb "$b"); fi
  result "$1" "$2" "$3" "$a" "$b" "$a" "$b"
}
line cpu_master_1000 "%" "<=0.3" cpum
line cpu_backup_1000 "%" "<=0.15" cpub
line cpu_master_1000_schedstat "%" - cpumns
line cpu_backup_1000_schedstat "%" - cpubns
line rss_1 MB "<=6" rss1 mb
line rss_1000 MB "<=8" rssN mb
line pss_1 MB - pss1 mb
line pss_1000 MB - pssN mb
line anon_1 MB - anon1 mb
line anon_1000 MB - anonN mb
line rss_backup_1 MB - rss1b mb
line rss_backup_1000 MB - rssNb mb
line sigterm_exit_1000 ms - stop
line sigterm_vip_released_1000 ms - rel
line sigterm_exit_after_release_1000 ms "<=100" after
