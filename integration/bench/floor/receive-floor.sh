#!/usr/bin/env bash
# The kernel's share of scale.sh's BACKUP CPU: keepalived-rs as the 1,000-instance MASTER on n1 (as in
# scale.sh), and on n2, in turn, receive-floor.c (the same four raw receive sockets, epoll and recvmmsg,
# nothing else) and keepalived-rs as the 1,000-instance BACKUP. utime/stime of each over SECS, ROUNDS
# times alternating; what the daemon adds on top of the floor is its own cost. BPF=1 also measures the
# floor with a classic socket filter on its sockets (what an early drop in the kernel would save).
# Profiles of the backup, after the CPU rounds (each perturbs the process it watches):
#   STRACE=1    strace -c -f of the backup's processes over SECS: syscalls per second
#   CALLGRIND=1 the backup under callgrind, twice (WARM s + SECS, WARM s + 3*SECS): instructions of
#               the VRRP child per second of steady state and per advert received (N a second)
#   CALLGRIND_MASTER=1  the same for the master (after the rest): instructions per advert sent
# MASTER=floor sends the adverts with advert-floor.c instead (4 bursts a second, not spread out).
# Usage: receive-floor.sh KEEPALIVED_RS_BINARY   (root; gcc; valgrind for CALLGRIND=1)
source "$(dirname "$0")/../lib.sh"
bench_init rxfl "$1"
N=${INSTANCES:-1000}; PER_IF=250; SECS=${SECS:-20}; SETTLE=${SETTLE:-5}; ROUNDS=${ROUNDS:-2}
HZ=$(getconf CLK_TCK)
write_conf() { # $1 dir, $2 instances, $3 priority, $4 state (scale.sh's configuration)
  mkdir -p "$1"; local i link vrid
  { echo "global_defs { router_id bench }"
    for ((i = 0; i < $2; i++)); do
      link=$((i / PER_IF)); vrid=$((i % PER_IF + 1))
      printf 'vrrp_instance I%d {\n state %s\n interface eth%d\n virtual_router_id %d\n priority %d\n advert_int 1\n virtual_ipaddress {\n  10.%d.%d.1/32\n }\n}\n' \
        "$i" "$4" "$link" "$vrid" "$3" "$((100 + link))" "$vrid"
    done; } >"$1/keepalived.conf"
}
vips() { ip -n "$(ns_of "$1")" -o -4 addr show | grep -c 'inet 10\.1[0-9][0-9]\.' || true; }
ticks() { # pids... -> "user system" clock ticks summed
  local u=0 s=0 p a b
  for p in "$@"; do
    read -r a b < <(awk '{ sub(/^.*\) /, ""); print $12, $13 }' "/proc/$p/stat" 2>/dev/null || echo "0 0")
    u=$((u + a)); s=$((s + b))
  done
  echo "$u $s"
}
pct() { awk -v t="$1" -v hz="$HZ" -v s="$SECS" 'BEGIN { printf "%.3f", t / hz / s * 100 }'; }
oncpu_ns() { # pids... -> time on CPU of all their threads (ns, schedstat)
  local s=0 p t v
  for p in "$@"; do
    for t in /proc/"$p"/task/*/schedstat; do
      v=$(awk '{print $1}' "$t" 2>/dev/null || echo 0); s=$((s + ${v:-0}))
    done
  done
  echo "$s"
}
wakeups() { # pids... -> voluntary context switches of all their threads (one per sleep)
  local s=0 p t v
  for p in "$@"; do
    for t in /proc/"$p"/task/*/status; do
      v=$(awk '/^voluntary_ctxt_switches:/ {print $2}' "$t" 2>/dev/null || echo 0); s=$((s + ${v:-0}))
    done
  done
  echo "$s"
}
measure() { # $1 label, pids... : CPU of those processes and of the master over SECS
  local label=$1; shift
  local u0 s0 u1 s1 m0 m1 l0 l1 n0 n1 w0 w1
  read -r u0 s0 < <(ticks "$@"); n0=$(oncpu_ns "$@"); w0=$(wakeups "$@"); m0=$(daemon_cpu_ticks n1); l0=$(cut -d' ' -f1-3 /proc/loadavg)
  sleep "$SECS"
  read -r u1 s1 < <(ticks "$@"); n1=$(oncpu_ns "$@"); w1=$(wakeups "$@"); m1=$(daemon_cpu_ticks n1); l1=$(cut -d' ' -f1-3 /proc/loadavg)
  printf '%-22s %s %% (user %s %%, system %s %%; schedstat %s %%; %s wake-ups/s)   master %s %%   load %s -> %s\n' "$label" \
    "$(pct $((u1 - u0 + s1 - s0)))" "$(pct $((u1 - u0)))" "$(pct $((s1 - s0)))" \
    "$(awk -v d=$((n1 - n0)) -v s="$SECS" 'BEGIN { printf "%.3f", d / s / 1e7 }')" "$(( (w1 - w0) / SECS ))" "$(pct $((m1 - m0)))" "$l0" "$l1"
}
child_of() { # $1 node: the VRRP child (the daemon's process with the highest pid)
  daemon_pids "$1" | tr ' ' '\n' | grep . | sort -n | tail -n 1
}

gcc -O2 -Wall -o "$WORK/receive-floor" "$(dirname "$0")/receive-floor.c"
lab_new 4; lab_node n1 1; lab_node n2 2
write_conf "$WORK/n1" "$N" 150 MASTER; write_conf "$WORK/n2" "$N" 100 BACKUP
if [ "${MASTER:-ours}" = floor ]; then
  # advert-floor.c: the same 1,000 adverts a second, as 4 bursts (one sendmmsg per interface).
  gcc -O2 -o "$WORK/advert-floor" "$(dirname "$0")/advert-floor.c"
  ip netns exec "$(ns_of n1)" "$WORK/advert-floor" & BG_PIDS+=("$!")
  daemon_cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/${BG_PIDS[-1]}/stat"; }
  master="advert-floor.c (4 bursts a second)"
else
  daemon_start ours n1 "$WORK/n1"
  end=$(( $(date +%s) + 180 ))
  until [ "$(vips n1)" -ge "$N" ]; do
    (( $(date +%s) < end )) || { echo "master holds $(vips n1) of $N VIPs" >&2; exit 1; }
    sleep 0.2
  done
  master="keepalived-rs"
fi
echo "== $N instances, advert_int 1, master $master, $SECS s per measure, HZ $HZ"
floor() { # $1 label, [$2 BPF]
  ip netns exec "$(ns_of n2)" "$WORK/receive-floor" ${2:-} >"$WORK/floor.out" & local fp=$!
  sleep "$SETTLE"; measure "$1" "$fp"
  kill -TERM "$fp"; wait "$fp" 2>/dev/null || true; sed 's/^/   /' "$WORK/floor.out"
}
for ((r = 1; r <= ROUNDS; r++)); do
  floor "floor (C receiver)"
  [ -n "${BPF:-}" ] && floor "floor + BPF filter" BPF
  daemon_start ours n2 "$WORK/n2"; sleep "$SETTLE"
  [ "$(vips n2)" = 0 ] || echo "   WARNING: the backup holds $(vips n2) VIPs"
  # shellcheck disable=SC2046
  measure "keepalived-rs backup" $(daemon_pids n2)
  # shellcheck disable=SC2046
  echo "   VRRP child $(child_of n2): $(ticks "$(child_of n2)") user/system ticks in all"
  if [ -n "${STRACE:-}" ] && [ "$r" = "$ROUNDS" ]; then
    # shellcheck disable=SC2046
    timeout -s INT "$SECS" strace -c -f -o "$WORK/strace.txt" $(daemon_pids n2 | xargs -n 1 printf -- '-p %s ') >/dev/null 2>&1 || true
    echo "   strace -c -f over $SECS s (calls / $SECS = per second):"
    sed 's/^/   /' "$WORK/strace.txt"
  fi
  kill -TERM "${DPID[n2]}"; for _ in $(seq 50); do [ -z "$(daemon_pids n2)" ] && break; sleep 0.1; done
  daemon_reap n2
done
callgrind_runs() { # $1 node, $2 what its VRRP child does per second ("advert received" / "advert sent")
  # Two runs under callgrind, WARM s then SECS or 3*SECS s of steady state before SIGTERM: the
  # difference of the VRRP child's totals is the steady state's, start-up and shutdown cancel out
  # (vgdb cannot reach a forked child's FIFOs here, so no switching the instrumentation on and off).
  local node=$1 what=$2 t child long=$((3 * SECS)) real=$RS_BIN
  local wrap="$WORK/callgrind-wrap"
  printf '#!/bin/sh\nexec valgrind --tool=callgrind --callgrind-out-file=%s/cg.%%p "%s" "$@"\n' "$WORK" "$RS_BIN" >"$wrap"
  chmod +x "$wrap"
  declare -A IR=() FILE=()
  for t in "$SECS" "$long"; do
    RS_BIN=$wrap; daemon_start ours "$node" "$WORK/$node"; RS_BIN=$real
    sleep "$WARM"; child=$(child_of "$node"); sleep "$t"
    kill -TERM "${DPID[$node]}"; for _ in $(seq 200); do [ -z "$(daemon_pids "$node")" ] && break; sleep 0.1; done
    daemon_reap "$node"
    FILE[$t]="$WORK/cg.$child"
    IR[$t]=$(awk '$1 == "summary:" { print $2 }' "${FILE[$t]}")
    echo "   callgrind: $node's VRRP child $child, $WARM + $t s: ${IR[$t]} instructions"
  done
  echo "== callgrind, $node's VRRP child: $(( (IR[$long] - IR[$SECS]) / (2 * SECS) )) instructions per second = $(( (IR[$long] - IR[$SECS]) / (2 * SECS * N) )) per $what"
  if [ -n "${KEEP:-}" ]; then echo "   profiles: ${FILE[$SECS]} ${FILE[$long]} (the difference is the steady state)"; fi
}
WARM=${WARM:-30}
if [ -n "${CALLGRIND:-}" ]; then
  callgrind_runs n2 "advert received"
fi
if [ -n "${CALLGRIND_MASTER:-}" ] && [ "${MASTER:-ours}" = ours ]; then
  # The master under callgrind, the backup absent (it only listens while the master is up).
  kill -TERM "${DPID[n1]}"; for _ in $(seq 100); do [ -z "$(daemon_pids n1)" ] && break; sleep 0.1; done
  daemon_reap n1
  WARM=$((WARM > 60 ? WARM : 60)) callgrind_runs n1 "advert sent"
fi
