#!/usr/bin/env bash
# make demo: two routers in two network namespaces on one bridge, the master is killed,
# the VIP moves. Builds nothing; needs root (namespaces).
#
#   bash integration/demo.sh [--with-keepalived] [PATH/TO/keepalived-rs]
#
# --with-keepalived runs Debian's keepalived on both nodes instead (proves the script itself).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
kind=ours
bin=""
for arg in "$@"; do
    case "$arg" in
        --with-keepalived) kind=keepalived ;;
        -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
        *) bin=$arg ;;
    esac
done
if [ "$kind" = keepalived ]; then
    bin=${KEEPALIVED_BIN:-/usr/sbin/keepalived}
else
    bin=${bin:-$root/target/release/keepalived-rs}
fi
[ -x "$bin" ] || { echo "demo: $bin not found (make build first, or --with-keepalived)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "demo: needs root (network namespaces)" >&2; exit 1; }

VIP=192.0.2.100
tag=krs-demo-$$
work=$(mktemp -d /tmp/$tag.XXXX)
declare -A pid

cleanup() {
    set +e
    for n in n1 n2; do
        if [ -n "${pid[$n]:-}" ]; then
            kill -STOP -- "-${pid[$n]}" 2>/dev/null
            kill -KILL -- "-${pid[$n]}" 2>/dev/null
        fi
    done
    [ -n "${monpid:-}" ] && kill "$monpid" 2>/dev/null
    for ns in "$tag-n1" "$tag-n2" "$tag-br"; do
        for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
    done
    sleep 0.1
    for ns in "$tag-n1" "$tag-n2" "$tag-br"; do ip netns del "$ns" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

now() { date +%s.%N; }
holders() {
    local h=""
    for n in n1 n2; do
        ip -n "$tag-$n" -br addr show dev eth0 | grep -qw "$VIP" && h="$h $n"
    done
    echo "${h:- none}"
}

echo "== lab: namespaces $tag-{br,n1,n2}, bridge br0, 192.0.2.0/24, VIP $VIP"
ip netns add "$tag-br"
ip -n "$tag-br" link add br0 type bridge
ip -n "$tag-br" link set br0 type bridge mcast_snooping 0
ip -n "$tag-br" link set br0 up
i=0
for n in n1 n2; do
    i=$((i + 1))
    ns=$tag-$n
    ip netns add "$ns"
    ip -n "$tag-br" link add "v$i" type veth peer name eth0 netns "$ns"
    ip -n "$tag-br" link set "v$i" master br0 up
    ip -n "$ns" link set lo up
    ip -n "$ns" addr add "192.0.2.1$i/24" dev eth0
    ip -n "$ns" link set eth0 up
done

start() { # node conf
    local n=$1 conf=$2 d=$work/$1
    mkdir -p "$d"
    # setsid: own process group, so the kill below takes every process of the daemon.
    TMPDIR=$d setsid ip netns exec "$tag-$n" "$bin" -n -l -D -P -f "$conf" \
        -p "$d/keepalived.pid" -r "$d/vrrp.pid" -c "$d/checkers.pid" >"$d/daemon.log" 2>&1 &
    pid[$n]=$!
    disown
}

echo "== starting $kind ($bin) on n1 (priority 150) and n2 (priority 100)"
t0=$(now)
start n1 "$root/etc/demo-node1.conf"
start n2 "$root/etc/demo-node2.conf"
until [ "$(holders)" = " n1" ]; do
    sleep 0.05
    if awk -v a="$t0" -v b="$(now)" 'BEGIN { exit !(b - a > 10) }'; then
        echo "demo: n1 did not become master within 10 s; logs:" >&2
        tail -n 20 "$work"/n*/daemon.log >&2
        exit 1
    fi
done
printf '   VIP %s is on:%s (%.2f s after start)\n' "$VIP" "$(holders)" "$(awk -v a="$t0" -v b="$(now)" 'BEGIN { print b - a }')"
sleep 1

echo "== kill -9 of the master n1"
TZ=UTC ip -n "$tag-n2" -ts monitor address >"$work/monitor.txt" &
monpid=$!
sleep 0.2
tk=$(now)
kill -STOP -- "-${pid[n1]}"
kill -KILL -- "-${pid[n1]}"
until ip -n "$tag-n2" -br addr show dev eth0 | grep -qw "$VIP"; do
    sleep 0.01
    if awk -v a="$tk" -v b="$(now)" 'BEGIN { exit !(b - a > 10) }'; then
        echo "demo: n2 did not take over within 10 s" >&2
        exit 1
    fi
done
sleep 0.1
stamp=$(grep -m1 "inet $VIP/" "$work/monitor.txt" | sed -n 's/^\[\([^]]*\)\].*/\1/p')
ta=$(TZ=UTC date -d "$stamp" +%s.%N)
printf '   VIP %s moved to n2: added %.1f ms after the kill (kernel address event)\n' "$VIP" \
    "$(awk -v a="$tk" -v b="$ta" 'BEGIN { print (b - a) * 1000 }')"
echo "   (VRRP: the backup waits Master_Down_Interval = 3 x 1 s + (256-100)/256 s = 3.609 s after the last advert)"
echo "== n2 holds it now:$(ip -n "$tag-n2" -br addr show dev eth0 | grep -ow "$VIP" | sed 's/^/ /')"
echo "== done, cleaning up"
