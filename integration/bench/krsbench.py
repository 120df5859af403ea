#!/usr/bin/env python3
"""Helpers for the benches: exact signal instants, kernel address events, VRRP captures.

Every time is CLOCK_REALTIME in seconds (float), the clock `ip -ts monitor` prints and the clock
tcpdump stamps packets with, so the three sources can be subtracted from each other.

  signal SIG [--stop] [--first-only] [--wait-gone] PID...   print t_signal (taken right before
        kill(2)) and, with --wait-gone, t_gone (every PID gone or a zombie); --first-only signals
        only the first PID (the daemon's main process) but waits for all
  addr FILE VIP added|deleted [--after T] [--last]   time of the first (last) matching event
        (VIP ending in * matches a prefix)
  adverts PCAP [--src IP] [--after T] [--before T]   one line per VRRP advert: time src prio
  maxgap PCAP --src IP [--after T] [--before T]      worst interval between adverts of IP (ms)
  stats V...                                 min median max of the values
"""
import datetime
import os
import signal
import socket
import struct
import sys
import time


def now():
    return time.clock_gettime(time.CLOCK_REALTIME)


def gone(pid):
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return True
    # state is the field right after the ")" closing the command name
    return data[data.rindex(b")") + 2 : data.rindex(b")") + 3] in (b"Z", b"X")


def cmd_signal(args):
    stop = "--stop" in args
    wait = "--wait-gone" in args
    rest = [a for a in args if not a.startswith("--")]
    sig = getattr(signal, "SIG" + rest[0].upper().removeprefix("SIG"))
    pids = [int(p) for p in rest[1:]]
    if stop:
        for p in pids:
            try:
                os.kill(p, signal.SIGSTOP)
            except ProcessLookupError:
                pass
    t = now()
    for p in pids[:1] if "--first-only" in args else pids:
        try:
            os.kill(p, sig)
        except ProcessLookupError:
            pass
    print(f"t_signal={t:.6f}")
    if wait:
        deadline = time.monotonic() + 60
        while not all(gone(p) for p in pids):
            if time.monotonic() > deadline:
                print("t_gone=none")
                return
            time.sleep(0.0002)
        print(f"t_gone={now():.6f}")


def monitor_events(path):
    """(time, kind, line) of `ip -ts monitor address` output, kind 'added' or 'deleted'."""
    out = []
    with open(path, errors="replace") as f:
        for line in f:
            if not line.startswith("["):
                continue
            stamp, _, body = line[1:].partition("]")
            try:
                t = datetime.datetime.fromisoformat(stamp).replace(tzinfo=datetime.timezone.utc)
            except ValueError:
                continue
            kind = "deleted" if body.lstrip().startswith("Deleted") else "added"
            out.append((t.timestamp(), kind, body))
    return out


def opt(args, name, default=None):
    if name in args:
        return float(args[args.index(name) + 1])
    return default


def cmd_addr(args):
    path, vip, kind = args[0], args[1], args[2]
    after = opt(args, "--after", 0.0)
    # VIP "10.1*" matches every address starting with 10.1
    needle = f"inet {vip[:-1]}" if vip.endswith("*") else f"inet {vip}/"
    hits = [t for t, k, body in monitor_events(path)
            if k == kind and t >= after and needle in body]
    if not hits:
        print("none")
    else:
        print(f"{(hits[-1] if '--last' in args else hits[0]):.6f}")


def read_pcap(path):
    """VRRP (IPv4, protocol 112) packets of an Ethernet pcap: (time, src, vrid, prio)."""
    out = []
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return out
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        end = "<"
    else:
        end = ">"
    (m,) = struct.unpack(end + "I", magic)
    scale = 1e-9 if m == 0xA1B23C4D else 1e-6
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, _orig = struct.unpack(end + "IIII", data[off : off + 16])
        pkt = data[off + 16 : off + 16 + incl]
        off += 16 + incl
        if len(pkt) < 14 + 20 + 3:
            continue
        etype = struct.unpack(">H", pkt[12:14])[0]
        ip = pkt[14:]
        if etype != 0x0800 or ip[9] != 112:
            continue
        ihl = (ip[0] & 0x0F) * 4
        vrrp = ip[ihl:]
        if len(vrrp) < 3:
            continue
        out.append((sec + frac * scale, socket.inet_ntoa(ip[12:16]), vrrp[1], vrrp[2]))
    return out


def filtered(args):
    src = args[args.index("--src") + 1] if "--src" in args else None
    after = opt(args, "--after", 0.0)
    before = opt(args, "--before", float("inf"))
    return [p for p in read_pcap(args[0])
            if (src is None or p[1] == src) and after <= p[0] <= before]


def cmd_adverts(args):
    for t, src, vrid, prio in filtered(args):
        print(f"{t:.6f} {src} {vrid} {prio}")


def cmd_maxgap(args):
    times = sorted({p[0] for p in filtered(args)})
    gaps = [b - a for a, b in zip(times, times[1:])]
    if not gaps:
        print("none 0")
    else:
        print(f"{max(gaps) * 1000:.3f} {len(times)}")


def cmd_stats(args):
    v = []
    for a in args:
        try:
            v.append(float(a))
        except ValueError:
            pass
    v.sort()
    if not v:
        print("none none none")
        return
    n = len(v)
    med = v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2
    print(f"{v[0]:.3f} {med:.3f} {v[-1]:.3f}")


def main():
    cmds = {"signal": cmd_signal, "addr": cmd_addr, "adverts": cmd_adverts,
            "maxgap": cmd_maxgap, "stats": cmd_stats}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        sys.stderr.write(__doc__)
        sys.exit(2)
    cmds[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
