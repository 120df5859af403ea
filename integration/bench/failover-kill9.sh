#!/usr/bin/env bash
# Benchmark (measure 1 of issue 7): kill -9 of the master until the backup holds the VIP, minus
# the protocol's Master_Down_Interval, keepalived 2.2 and keepalived-rs alternating, N runs each.
# Two nodes on one bridge, VRRPv2 advert_int 1, n1 priority 150 (state MASTER), n2 priority 100:
# master_down = 3 x 1 s + (256 - 100) / 256 s = 3609.375 ms after n1's last advert.
# Times (all CLOCK_REALTIME): n1's last advert = kernel timestamp of the capture on n2's eth0;
# VIP added = `ip -ts monitor address` in n2's namespace (kernel netlink event, no polling);
# the kill instant is taken right before kill(2) (every process is SIGSTOPped first, so no child
# shuts down gracefully when its parent dies).
# Usage: failover-kill9.sh KEEPALIVED_RS_BINARY   (root; N=5 runs per daemon, KEEP=1 keeps files)
source "$(dirname "$0")/lib.sh"
bench_init k9 "${1:-${KEEPALIVED_RS_BIN:-target/release/keepalived-rs}}"
N=${N:-5}
VIP=172.16.0.100
MASTER_DOWN_MS=3609.375

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
declare -A over=() handover=() afterkill=()
echo "== kill -9 of the master, $N runs per daemon, alternating; master_down $MASTER_DOWN_MS ms"
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
    mon_start n2 "$d/mon.txt"; mon=$LAST_BG
    cap_start n2 "$d/cap.pcap"; cap=$LAST_BG
    sleep 1.3
    tk=$(daemon_kill9 n1 | sed -n 's/^t_signal=//p')
    wait_holds n2 $VIP 10
    sleep 0.3
    bg_stop "$mon"; bg_stop "$cap"
    daemon_kill9 n2 >/dev/null
    tv=$("${TOOL[@]}" addr "$d/mon.txt" $VIP added --after "$tk")
    last=$("${TOOL[@]}" adverts "$d/cap.pcap" --src "$(addr_of 1)" --before "$tk" | tail -n 1 | cut -d' ' -f1)
    first=$("${TOOL[@]}" adverts "$d/cap.pcap" --src "$(addr_of 2)" --after "$tk" | sed -n 1p | cut -d' ' -f1)
    o=$(awk -v l="${last:-none}" -v v="$tv" -v m=$MASTER_DOWN_MS 'BEGIN { if (l == "none" || v == "none") print "none"; else printf "%.3f\n", (v - l) * 1000 - m }')
    h=$(awk -v l="${last:-none}" -v f="${first:-none}" -v m=$MASTER_DOWN_MS 'BEGIN { if (l == "none" || f == "none") print "none"; else printf "%.3f\n", (f - l) * 1000 - m }')
    k=$(ms_between "$tk" "$tv")
    printf '   %-10s run %d: VIP on n2 %s ms after master_down (n2 first advert %s ms after master_down; VIP %s ms after the kill)\n' \
      "$kind" "$run" "$o" "$h" "$k"
    over[$kind]+="$o "; handover[$kind]+="$h "; afterkill[$kind]+="$k "
  done
done
med_ka=""; raw_ka=""; hmed_ka=""; hraw_ka=""
if have_keepalived; then
  med_ka=$(median ${over[keepalived]}); raw_ka=$(csv ${over[keepalived]})
  hmed_ka=$(median ${handover[keepalived]}); hraw_ka=$(csv ${handover[keepalived]})
fi
result kill9_over_master_down ms "<=0.5" "$med_ka" "$(median ${over[ours]})" "$raw_ka" "$(csv ${over[ours]})"
result kill9_wire_over_master_down ms - "$hmed_ka" "$(median ${handover[ours]})" "$hraw_ka" "$(csv ${handover[ours]})"
