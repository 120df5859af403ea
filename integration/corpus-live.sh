#!/usr/bin/env bash
# Runs keepalived 2.2 (Debian) and keepalived-rs `-t` side by side on every corpus config, inside a
# network namespace made like the one the stored verdicts came from, and compares accept/reject.
# Usage: corpus-live.sh KEEPALIVED_RS_BINARY [MIN_AGREEMENT_PERCENT]
# Needs root, `ip`, /usr/sbin/keepalived and ../shared/corpus; skips (exit 0, saying so) without them.
set -euo pipefail
bin=$(realpath "$1")
min=${2:-0}
here=$(cd "$(dirname "$0")/.." && pwd)
corpus=$(realpath "$here/../shared/corpus" 2>/dev/null || true)
if [ -z "$corpus" ] || [ ! -f "$corpus/verdicts.tsv" ]; then echo "corpus-live: no corpus: skipped"; exit 0; fi
if [ ! -x /usr/sbin/keepalived ]; then echo "corpus-live: keepalived not installed: FAILED"; exit 1; fi
if [ "$(id -u)" != 0 ]; then echo "corpus-live: needs root: FAILED"; exit 1; fi

ns="krs-corpus-$$"
out=$(mktemp -d)
cleanup() { ip netns del "$ns" 2>/dev/null || true; rm -rf "$out"; }
trap cleanup EXIT
bash "$corpus/make-ns.sh" "$ns" >/dev/null

# Configs keepalived never validated (net_namespace naming a missing namespace: exit 0 before any
# check) and the one where it kills itself: their verdict says nothing about the config.
skip=" 1027.conf 2003l.conf 634.conf 638.conf 649.conf 650a.conf error-fwmark-ipv6-rs-ipv4.conf 2003h.conf 442.conf 442a.conf 1375a.conf 1554a.conf 101.conf 1492a.conf 894.conf erik.tempelaar.conf n1.conf 1569-two-unicast.conf 1569c.conf 1569d.conf 751.conf 950-test.conf n.conf notify-1857.conf notify.conf notify1.conf notify12.conf notify1v6.conf notify2.conf notify866.conf notify_priority_change.conf notify_t.conf z.conf 1694.conf "

cat > "$out/runner" <<RUN
#!/usr/bin/env bash
cd "$corpus"
tail -n +2 verdicts.tsv | cut -f1 | while read -r p; do
  b=\$(basename "\$p")
  case "$skip" in *" \$b "*) continue;; esac
  d="$corpus/\$(dirname "\$p")"
  ka=\$(cd "\$d" && env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C timeout -k 2 10 /usr/sbin/keepalived -t -i vm -f "\$b" </dev/null >/dev/null 2>&1; echo \$?)
  rs=\$(cd "\$d" && env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C timeout -k 2 10 "$bin" -t -i vm -f "\$b" </dev/null >/dev/null 2>&1; echo \$?)
  printf '%s\t%s\t%s\n' "\$p" "\$ka" "\$rs"
done
RUN
ip netns exec "$ns" bash "$out/runner" > "$out/results.tsv"

awk -F'\t' -v min="$min" '
  { n++; ka = ($2 != 0); rs = ($3 != 0); if (ka == rs) side++; if ($2 == $3) exact++;
    else if (ka != rs) print "  disagree: " $1 " keepalived " $2 " ours " $3 }
  $3 >= 124 && $3 != 0 { crash++; print "  OURS CRASHED/HUNG: " $1 " exit " $3 }
  END {
    pct = 100 * side / n
    printf "corpus-live: %d configs; accept/reject agree %d (%.1f%%); exact exit code agree %d (%.1f%%); ours crashed %d\n", n, side, pct, exact, 100*exact/n, crash
    if (crash > 0 || pct < min) { print "corpus-live: FAILED (minimum " min "%)"; exit 1 }
  }' "$out/results.tsv"
