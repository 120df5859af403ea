#!/usr/bin/env bash
# The kernel's share of scale.sh's MASTER CPU: a C sender of the same 1,000 prebuilt adverts a second
# (one sendmmsg per socket, nothing else) as n1, keepalived-rs as the 1,000-instance BACKUP on n2;
# utime/stime of both over SECS. What the daemon adds on top of this floor is its own cost.
# Usage: advert-floor.sh KEEPALIVED_RS_BINARY   (root; gcc)
source "$(dirname "$0")/../lib.sh"
bench_init cpufl "$1"
N=1000; PER_IF=250; SECS=${SECS:-20}
write_conf() {
  mkdir -p "$1"; local i link vrid
  { echo "global_defs { router_id bench }"
    for ((i = 0; i < $2; i++)); do
      link=$((i / PER_IF)); vrid=$((i % PER_IF + 1))
      printf 'vrrp_instance I%d {\n state %s\n interface eth%d\n virtual_router_id %d\n priority %d\n advert_int 1\n virtual_ipaddress {\n  10.%d.%d.1/32\n }\n}\n' \
        "$i" "$4" "$link" "$vrid" "$3" "$((100 + link))" "$vrid"
    done; } >"$1/keepalived.conf"
}
vips() { ip -n "$(ns_of "$1")" -o -4 addr show | grep -c 'inet 10\.1[0-9][0-9]\.' || true; }
gcc -O2 -o "$WORK/advert-floor" "$(dirname "$0")/advert-floor.c"
lab_new 4; lab_node n1 1; lab_node n2 2
write_conf "$WORK/n2" "$N" 100 BACKUP
ip netns exec "$(ns_of n1)" "$WORK/advert-floor" & fp=$!; BG_PIDS+=("$fp")
sleep 1
daemon_start ours n2 "$WORK/n2"
sleep 8
HZ=$(getconf CLK_TCK)
read -r fu0 fs0 < <(awk '{print $14, $15}' /proc/$fp/stat)
for p in $(daemon_pids n2); do read -r u s < <(awk '{print $14, $15}' /proc/$p/stat); B0[$p]="$u $s"; done
l0=$(cat /proc/loadavg); sleep "$SECS"; l1=$(cat /proc/loadavg)
read -r fu1 fs1 < <(awk '{print $14, $15}' /proc/$fp/stat)
echo "floor sender: user $((fu1-fu0)) ticks system $((fs1-fs0)) ticks over $SECS s (HZ $HZ) = $(awk -v t=$((fu1-fu0+fs1-fs0)) -v s=$SECS -v hz=$HZ 'BEGIN{printf "%.3f", t/hz/s*100}') %"
for p in $(daemon_pids n2); do read -r u s < <(awk '{print $14, $15}' /proc/$p/stat); set -- ${B0[$p]}; echo "backup pid $p: user $((u-$1)) system $((s-$2)) ticks"; done
echo "vips n2=$(vips n2); load $l0 -> $l1"
