"""Stub servers for integration/tests/checkers_more.rs (run inside the real-server namespace).

usage: servers.py KIND ADDR PORT STATEDIR [extra...]
Each answer reads STATEDIR/KIND.mode at the time of the request, so the test switches behaviour by
writing that file: http: 200 | 500 | slow; smtp: good | 554; dns: rcode number; https: the
directory of the certificate pair to present (cert.pem, key.pem). udp is a plain echo.
"""
import socket
import socketserver
import ssl
import sys
import threading
import time
import http.server

kind, addr, port, state = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]


def mode(default):
    try:
        with open(f"{state}/{kind}.mode") as f:
            return f.read().strip() or default
    except OSError:
        return default


class Web(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        m = mode("200") if kind == "http" else "200"
        if m == "slow":
            time.sleep(3)
            m = "200"
        body = b"ok\n"
        self.send_response(int(m))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class TlsServer(Server):
    def get_request(self):
        sock, peer = self.socket.accept()
        d = mode("")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(f"{d}/cert.pem", f"{d}/key.pem")
        return ctx.wrap_socket(sock, server_side=True), peer


class Smtp(socketserver.StreamRequestHandler):
    def handle(self):
        if mode("good") == "554":
            self.wfile.write(b"554 go away\r\n")
            return
        self.wfile.write(b"220 stub ESMTP\r\n")
        for line in self.rfile:
            verb = line.strip().split(b" ")[0].upper()
            if verb in (b"HELO", b"EHLO"):
                self.wfile.write(b"250 stub\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


class TcpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def dns():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, port))
    while True:
        q, peer = s.recvfrom(2048)
        if len(q) < 12:
            continue
        rcode = int(mode("0"))
        # id, QR|RD, RA|rcode, the question echoed, no answers
        r = q[0:2] + bytes([0x80 | (q[2] & 0x01), 0x80 | rcode]) + q[4:6] + b"\0\0\0\0\0\0" + q[12:]
        s.sendto(r, peer)


def udp_echo():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, port))
    while True:
        q, peer = s.recvfrom(2048)
        s.sendto(q, peer)


if kind == "http":
    Server((addr, port), Web).serve_forever()
elif kind == "https":
    TlsServer((addr, port), Web).serve_forever()
elif kind == "smtp":
    TcpServer((addr, port), Smtp).serve_forever()
elif kind == "dns":
    dns()
elif kind == "udp":
    udp_echo()
else:
    sys.exit(f"unknown kind {kind}")
