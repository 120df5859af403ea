# shellcheck shell=bash
# Shared by the benches (sourced): throwaway namespace labs, daemons started the same way for
# keepalived and keepalived-rs, kernel address monitors, VRRP captures and result lines.
#
# A lab is one "bridge" namespace holding bridges br0..brL-1 and one namespace per node whose
# eth0..ethL-1 are veths plugged into those bridges; node INDEX has 172.16.L.(10+INDEX)/24 on ethL.
# Every daemon runs in its own session (setsid), so its processes are `pgrep -s PID`, with its own
# pid files and TMPDIR, as `BIN -n -l [-D] -P -f CONF -p -r -c` (the lab-observations method).
#
# Result lines (what run-all.sh collects), one per measure:
#   RESULT id=ID unit=UNIT keepalived=V ours=V ratio=OURS/KEEPALIVED goal=OPVALUE raw_keepalived=CSV raw_ours=CSV
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KA_BIN=${KEEPALIVED_BIN:-/usr/sbin/keepalived}
PY=${PYTHON:-/usr/bin/python3}
TOOL=("$PY" "$BENCH_DIR/krsbench.py")

declare -A DPID=()   # "node" -> pid (= session id) of the daemon running there
BG_PIDS=()           # monitors, captures, load generators
NAMESPACES=()

bench_init() { # $1 tag, $2 keepalived-rs binary
  [ "$(id -u)" = 0 ] || { echo "bench: needs root (network namespaces)" >&2; exit 1; }
  RS_BIN=$(realpath "$2")
  [ -x "$RS_BIN" ] || { echo "bench: $RS_BIN is not executable" >&2; exit 1; }
  NSP="krsb-$1-$$"
  WORK=$(mktemp -d "/tmp/krsb-$1.XXXXXX")
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
}

bench_cleanup() {
  set +e
  for node in "${!DPID[@]}"; do daemon_kill9 "$node" >/dev/null 2>&1; done
  for p in "${BG_PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for ns in "${NAMESPACES[@]}"; do
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
  done
  sleep 0.1
  for ns in "${NAMESPACES[@]}"; do ip netns del "$ns" 2>/dev/null; done
  wait 2>/dev/null
  if [ -n "${KEEP:-}" ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}

bin_of() { if [ "$1" = ours ]; then echo "$RS_BIN"; else echo "$KA_BIN"; fi; }
have_keepalived() { [ -x "$KA_BIN" ]; }
kinds() { if have_keepalived; then echo "keepalived ours"; else echo ours; fi; }

lab_new() { # $1 number of links (bridges)
  LINKS=$1
  ip netns add "$NSP-br"; NAMESPACES+=("$NSP-br")
  local l
  for ((l = 0; l < LINKS; l++)); do
    ip -n "$NSP-br" link add "br$l" type bridge
    ip -n "$NSP-br" link set "br$l" type bridge mcast_snooping 0
    ip -n "$NSP-br" link set "br$l" up
  done
}

lab_node() { # $1 name, $2 index (1..)
  local ns="$NSP-$1" l
  ip netns add "$ns"; NAMESPACES+=("$ns")
  ip -n "$ns" link set lo up
  for ((l = 0; l < LINKS; l++)); do
    ip -n "$NSP-br" link add "v$2-$l" type veth peer name "eth$l" netns "$ns"
    ip -n "$NSP-br" link set "v$2-$l" master "br$l" up
    ip -n "$ns" addr add "172.16.$l.$((10 + $2))/24" dev "eth$l"
    ip -n "$ns" link set "eth$l" up
  done
}

ns_of() { echo "$NSP-$1"; }
addr_of() { echo "172.16.0.$((10 + $1))"; }

daemon_start() { # $1 kind, $2 node, $3 dir holding keepalived.conf, [$4 extra flag, e.g. -D]
  local bin; bin=$(bin_of "$1")
  local d=$3
  rm -f "$d"/*.pid
  TMPDIR=$d setsid ip netns exec "$(ns_of "$2")" "$bin" -n -l ${4:-} -P -f "$d/keepalived.conf" \
    -p "$d/k.pid" -r "$d/v.pid" -c "$d/c.pid" >"$d/daemon.log" 2>&1 &
  DPID[$2]=$!
  disown "$!"
}

daemon_pids() { # $1 node: every live process of its daemon
  [ -n "${DPID[$1]:-}" ] || return 0
  pgrep -s "${DPID[$1]}" 2>/dev/null | tr '\n' ' ' || true
}

daemon_reap() { # $1 node: wait for the daemon's main process, forget it
  local p=${DPID[$1]:-}
  [ -n "$p" ] || return 0
  for p2 in $(pgrep -s "$p" 2>/dev/null); do kill -9 "$p2" 2>/dev/null || true; done
  wait "$p" 2>/dev/null || true
  unset "DPID[$1]"
}

daemon_kill9() { # $1 node -> prints t_signal=...: SIGSTOP every process, then SIGKILL them all
  local pids; pids=$(daemon_pids "$1")
  [ -n "$pids" ] || return 0
  # shellcheck disable=SC2086
  "${TOOL[@]}" signal KILL --stop $pids
  daemon_reap "$1"
}

daemon_rss_kb() { # $1 node: sum of VmRSS of its processes (kB)
  local s=0 p v
  for p in $(daemon_pids "$1"); do
    v=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)
    s=$((s + ${v:-0}))
  done
  echo "$s"
}

daemon_smaps_kb() { # $1 node, $2 field of smaps_rollup (Pss, Anonymous): sum over its processes (kB)
  local s=0 p v
  for p in $(daemon_pids "$1"); do
    v=$(awk -v f="$2:" '$1 == f {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)
    s=$((s + ${v:-0}))
  done
  echo "$s"
}

daemon_cpu_ticks() { # $1 node: utime+stime of its processes (clock ticks)
  local s=0 p v
  for p in $(daemon_pids "$1"); do
    v=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$p/stat" 2>/dev/null || echo 0)
    s=$((s + ${v:-0}))
  done
  echo "$s"
}

daemon_cpu_ns() { # $1 node: time on CPU of its processes (ns, /proc/PID/schedstat)
  local s=0 p v
  for p in $(daemon_pids "$1"); do
    for t in /proc/"$p"/task/*/schedstat; do
      v=$(awk '{print $1}' "$t" 2>/dev/null || echo 0)
      s=$((s + ${v:-0}))
    done
  done
  echo "$s"
}

holds() { # $1 node, $2 vip
  ip -n "$(ns_of "$1")" -o -4 addr show | grep -q "inet $2/"
}

wait_holds() { # $1 node, $2 vip, $3 timeout s
  local end=$(( $(date +%s) + $3 ))
  until holds "$1" "$2"; do
    if (( $(date +%s) > end )); then
      echo "bench: $1 does not hold $2 after $3 s; log tail:" >&2
      tail -n 20 "$WORK"/*/daemon.log >&2 2>/dev/null || true
      return 1
    fi
    sleep 0.02
  done
}

mon_start() { # $1 node, $2 file: kernel address events with timestamps
  # Realtime priority: the timestamp is taken when `ip` reads the event, so it must not wait
  # behind the load (the daemons themselves run at normal priority, as in the lab).
  TZ=UTC chrt -f 20 ip -n "$(ns_of "$1")" -ts monitor address >"$2" 2>/dev/null &
  BG_PIDS+=($!); LAST_BG=$!
}

cap_start() { # $1 node, $2 pcap file: VRRP packets seen on its eth0
  ip netns exec "$(ns_of "$1")" tcpdump -i eth0 -n -U --immediate-mode -B 8192 -Z root -w "$2" 'ip proto 112' \
    >/dev/null 2>&1 &
  BG_PIDS+=($!); LAST_BG=$!
}

bg_stop() { # $1 pid
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || a == "none" || b == "none" || a + 0 == 0) print "n/a"; else printf "%.2f\n", b / a }'; }
ms_between() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "none" || b == "none") print "none"; else printf "%.3f\n", (b - a) * 1000 }'; }
median() { "${TOOL[@]}" stats "$@" | awk '{print $2}'; }
csv() { local IFS=,; echo "$*"; }

result() { # id unit goal keepalived ours raw_keepalived raw_ours
  echo "RESULT id=$1 unit=$2 keepalived=${4:-none} ours=${5:-none} ratio=$(ratio "${4:-}" "${5:-}") goal=$3 raw_keepalived=${6:-} raw_ours=${7:-}"
}
