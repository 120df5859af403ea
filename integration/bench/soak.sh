#!/usr/bin/env bash
# Soak (issue 7): 500 instances, VRRPv3 advert_int 0.1 s, a link flap every FLAP s (default 10)
# and a SIGHUP reload every RELOAD_EVERY s (default 60) for DURATION s (default 1800).
# One node in a throwaway lab with eth0 and eth1 (250 instances each, all MASTER, one VIP each).
# The flap takes eth1 down for 1 s: its 250 instances go FAULT and come back (expected); the
# instances on eth0 must never change state (a transition of one of them is unexpected). The
# reloads alternate two configs in which instance I0's VIP differs.
# Every SAMPLE s (default 10): VmRSS and open fds of each process of the daemon into
# soak-<kind>.csv (t_s,pid,role,rss_kb,fds); at the end the curve summary (first/last/max per
# process) and the transition counts. KINDS="ours keepalived" also soaks keepalived 2.2.
# Usage: soak.sh KEEPALIVED_RS_BINARY   (root; OUT=dir keeps the CSVs, default the work dir + KEEP=1)
source "$(dirname "$0")/lib.sh"
bench_init soak "${1:-${KEEPALIVED_RS_BIN:-target/release/keepalived-rs}}"
DURATION=${DURATION:-1800}; FLAP=${FLAP:-10}; RELOAD_EVERY=${RELOAD_EVERY:-60}; SAMPLE=${SAMPLE:-10}
N=500; PER_IF=250
OUT=${OUT:-$WORK}; mkdir -p "$OUT"

write_conf() { # $1 file, $2 A|B
  local i link vrid vip
  {
    printf 'global_defs {\n router_id soak\n vrrp_version 3\n}\n'
    for ((i = 0; i < N; i++)); do
      link=$((i / PER_IF)); vrid=$((i % PER_IF + 1)); vip="10.$((100 + link)).$vrid.1"
      if ((i == 0)) && [ "$2" = B ]; then vip=10.99.0.1; fi
      printf 'vrrp_instance I%d {\n state MASTER\n interface eth%d\n virtual_router_id %d\n priority 150\n advert_int 0.1\n virtual_ipaddress {\n  %s/32\n }\n}\n' \
        "$i" "$link" "$vrid" "$vip"
    done
  } >"$1"
}

vips() { ip -n "$(ns_of n1)" -o -4 addr show | grep -c 'inet 10\.' || true; }

sample() { # $1 t, $2 csv
  local p role rss fds
  for p in $(daemon_pids n1); do
    role=child; [ "$p" = "${DPID[n1]}" ] && role=main
    rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)
    fds=$(ls "/proc/$p/fd" 2>/dev/null | wc -l)
    echo "$1,$p,$role,${rss:-0},$fds" >>"$2"
  done
}

# eth0 instances are I0..I249: any "Entering" line of theirs after start-up is unexpected.
eth0_transitions() { grep -E '\(I([0-9]|[1-9][0-9]|1[0-9][0-9]|2[0-4][0-9])\) Entering' "$1" | grep -vc 'init' || true; }
eth1_transitions() { grep -E '\(I(2[5-9][0-9]|[34][0-9][0-9])\) Entering' "$1" | grep -vc 'init' || true; }

lab_new 2; lab_node n1 1
for kind in ${KINDS:-ours}; do
  d=$WORK/$kind; mkdir -p "$d"; csv_file=$OUT/soak-$kind.csv
  write_conf "$d/A.conf" A; write_conf "$d/B.conf" B; cp "$d/A.conf" "$d/keepalived.conf"
  ip -n "$(ns_of n1)" -o -4 addr show | awk '$4 ~ /^10\./ {print "addr del " $4 " dev " $2}' >"$d/del.batch"
  [ -s "$d/del.batch" ] && ip -n "$(ns_of n1)" -batch "$d/del.batch" 2>/dev/null
  echo "== soak $kind: $N instances, VRRPv3 0.1 s, flap eth1 every $FLAP s, reload every $RELOAD_EVERY s, $DURATION s"
  daemon_start "$kind" n1 "$d"
  end=$(( $(date +%s) + 60 ))
  until [ "$(vips)" -ge "$N" ]; do
    (( $(date +%s) > end )) && { echo "soak: only $(vips) VIPs after 60 s" >&2; tail "$d/daemon.log" >&2; exit 1; }
    sleep 0.2
  done
  sleep 2
  base0=$(eth0_transitions "$d/daemon.log"); base1=$(eth1_transitions "$d/daemon.log")
  echo "t_s,pid,role,rss_kb,fds" >"$csv_file"
  t0=$(date +%s); next_flap=$((t0 + FLAP)); next_reload=$((t0 + RELOAD_EVERY)); next_sample=$t0
  flaps=0; reloads=0; cfg=B
  while :; do
    now=$(date +%s); (( now - t0 >= DURATION )) && break
    if (( now >= next_sample )); then sample $((now - t0)) "$csv_file"; next_sample=$((next_sample + SAMPLE)); fi
    if (( now >= next_flap )); then
      ip -n "$(ns_of n1)" link set eth1 down; sleep 1; ip -n "$(ns_of n1)" link set eth1 up
      flaps=$((flaps + 1)); next_flap=$((next_flap + FLAP))
    fi
    if (( now >= next_reload )); then
      cp "$d/$cfg.conf" "$d/keepalived.conf.new"; mv "$d/keepalived.conf.new" "$d/keepalived.conf"
      kill -HUP "${DPID[n1]}"; reloads=$((reloads + 1)); next_reload=$((next_reload + RELOAD_EVERY))
      [ "$cfg" = B ] && cfg=A || cfg=B
    fi
    [ -z "$(daemon_pids n1)" ] && { echo "soak: the daemon died" >&2; break; }
    sleep 0.5
  done
  sample $(( $(date +%s) - t0 )) "$csv_file"
  unexpected=$(( $(eth0_transitions "$d/daemon.log") - base0 ))
  expected=$(( $(eth1_transitions "$d/daemon.log") - base1 ))
  alive=$([ -n "$(daemon_pids n1)" ] && echo yes || echo NO)
  kill -TERM "${DPID[n1]}" 2>/dev/null || true
  for _ in $(seq 50); do [ -z "$(daemon_pids n1)" ] && break; sleep 0.1; done
  daemon_kill9 n1 >/dev/null
  echo "   $flaps flaps, $reloads reloads; daemon alive at the end: $alive"
  echo "   transitions: unexpected (eth0 instances) $unexpected; expected (eth1 instances, FAULT and back) $expected"
  echo "   curve per process (first / last / max), CSV $csv_file:"
  awk -F, 'NR > 1 {
      k = $2 " " $3
      if (!(k in first_r)) { first_r[k] = $4; first_f[k] = $5; order[++n] = k }
      last_r[k] = $4; last_f[k] = $5
      if ($4 > max_r[k]) max_r[k] = $4; if ($5 > max_f[k]) max_f[k] = $5; cnt[k]++ }
    END { for (i = 1; i <= n; i++) { k = order[i]
      printf "     pid %s: RSS %d / %d / %d kB, fds %d / %d / %d (%d samples)\n", k, first_r[k], last_r[k], max_r[k], first_f[k], last_f[k], max_f[k], cnt[k] } }' "$csv_file"
  rss_growth=$(awk -F, 'NR > 1 { if (!($2 in f)) f[$2] = $4; l[$2] = $4 } END { for (p in f) s += l[p] - f[p]; print s + 0 }' "$csv_file")
  fd_growth=$(awk -F, 'NR > 1 { if (!($2 in f)) f[$2] = $5; l[$2] = $5 } END { for (p in f) s += l[p] - f[p]; print s + 0 }' "$csv_file")
  echo "SOAK kind=$kind duration=$DURATION flaps=$flaps reloads=$reloads unexpected_transitions=$unexpected expected_transitions=$expected rss_growth_kb=$rss_growth fd_growth=$fd_growth alive=$alive csv=$csv_file"
done
if [ "$OUT" = "$WORK" ] && [ -z "${KEEP:-}" ]; then echo "(CSV files are removed with the work dir: set OUT=dir or KEEP=1 to keep them)"; fi
