#!/usr/bin/env bash
# Benchmark (measures 3 and 7 of issue 7, from the same SIGTERMs): SIGTERM to the master's main
# process until (3) the backup holds the VIP, and (7) until the master's processes are all gone,
# until its VIP is released, and exit minus release. keepalived 2.2 and keepalived-rs alternating,
# N runs each. Two nodes on one bridge, VRRPv2 advert_int 1, n1 priority 150, n2 priority 100
# (skew 609.4 ms). Times: the signal instant right before kill(2); VIP added/deleted from
# `ip -ts monitor address` in each namespace; "gone" = every process of the daemon exited or a
# zombie, polled every 0.2 ms.
# Usage: sigterm.sh KEEPALIVED_RS_BINARY   (root; N=5 runs per daemon, KEEP=1 keeps files)
source "$(dirname "$0")/lib.sh"
bench_init st "${1:-${KEEPALIVED_RS_BIN:-target/release/keepalived-rs}}"
N=${N:-5}
VIP=172.16.0.100

write_conf() { # $1 dir, $2 priority, $3 state
  mkdir -p "$1"
  cat >"$1/keepalived.conf" <<CONF
global_defs { router_id bench }
vrrp_instance VI_1 {
  state $3
  interface eth0
  virtual_router_id 51
  priority $2
  advert_int 1
  virtual_ipaddress {
    $VIP/32
  }
}
CONF
}

lab_new 1; lab_node n1 1; lab_node n2 2
declare -A handover=() stop=() release=() after=() prio0=()
echo "== SIGTERM of the master, $N runs per daemon, alternating"
for ((run = 1; run <= N; run++)); do
  for kind in $(kinds); do
    d=$WORK/$kind-$run
    write_conf "$d/n1" 150 MASTER; write_conf "$d/n2" 100 BACKUP
    for n in n1 n2; do ip -n "$(ns_of $n)" addr del "$VIP/32" dev eth0 2>/dev/null || true; done
    daemon_start "$kind" n1 "$d/n1" -D
    sleep 0.3
    daemon_start "$kind" n2 "$d/n2" -D
    wait_holds n1 $VIP 15
    sleep 2
    mon_start n1 "$d/mon1.txt"; mon1=$LAST_BG
    mon_start n2 "$d/mon2.txt"; mon2=$LAST_BG
    cap_start n2 "$d/cap.pcap"; cap=$LAST_BG
    sleep 1.3
    # shellcheck disable=SC2046
    out=$("${TOOL[@]}" signal TERM --first-only --wait-gone ${DPID[n1]} $(daemon_pids n1))
    ts=$(sed -n 's/^t_signal=//p' <<<"$out"); tg=$(sed -n 's/^t_gone=//p' <<<"$out")
    wait_holds n2 $VIP 10
    sleep 0.3
    bg_stop "$mon1"; bg_stop "$mon2"; bg_stop "$cap"
    unset "DPID[n1]"
    daemon_kill9 n2 >/dev/null
    tv=$("${TOOL[@]}" addr "$d/mon2.txt" $VIP added --after "$ts")
    tr=$("${TOOL[@]}" addr "$d/mon1.txt" $VIP deleted --after "$ts")
    p0=$("${TOOL[@]}" adverts "$d/cap.pcap" --src "$(addr_of 1)" --after "$ts" | awk '$4 == 0 {print $1; exit}')
    h=$(ms_between "$ts" "$tv"); s=$(ms_between "$ts" "$tg"); r=$(ms_between "$ts" "$tr")
    a=$(ms_between "$tr" "$tg"); z=$(ms_between "$ts" "${p0:-none}")
    printf '   %-10s run %d: backup holds VIP %s ms; priority-0 advert %s ms; VIP released %s ms; exit %s ms (%s ms after the release)\n' \
      "$kind" "$run" "$h" "$z" "$r" "$s" "$a"
    handover[$kind]+="$h "; stop[$kind]+="$s "; release[$kind]+="$r "; after[$kind]+="$a "; prio0[$kind]+="$z "
  done
done
line() { # id goal array-name
  local -n arr=$3
  local mk="" rk=""
  if have_keepalived; then mk=$(median ${arr[keepalived]}); rk=$(csv ${arr[keepalived]}); fi
  result "$1" ms "$2" "$mk" "$(median ${arr[ours]})" "$rk" "$(csv ${arr[ours]})"
}
line sigterm_handover "<=611" handover
line sigterm_exit - stop
line sigterm_vip_released - release
line sigterm_exit_after_release "<=100" after
line sigterm_prio0_advert - prio0
