// The kernel floor of a 1,000-instance BACKUP (receive-floor.sh): the VRRP child's receive sockets and
// nothing else. 4 raw IPv4 sockets of protocol 112 (eth0..eth3) with the options keepalived-rs sets
// (non-blocking, IP_HDRINCL, SO_BINDTOIFINDEX, IP_MULTICAST_IF, IP_MULTICAST_LOOP 0, IP_MULTICAST_TTL 255,
// IP_MULTICAST_ALL 0, 224.0.0.18 joined on the interface), polled by one edge-triggered epoll and read with
// recvmmsg (32 slots of 2,048 bytes) until a read returns fewer than 32. Packets are counted, not looked
// at. Prints the count on SIGTERM/SIGINT; read its utime/stime from /proc.
// Usage: receive-floor [BPF]   (BPF: attach a classic socket filter keeping only VRRPv2/v3 adverts)
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/filter.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define SLOTS 32
#define SLOT_LEN 2048

static volatile sig_atomic_t stop;
static void on_signal(int s) { (void)s; stop = 1; }

static void must(int rc, const char *what) {
  if (rc < 0) { perror(what); _exit(1); }
}

int main(int argc, char **argv) {
  int bpf = argc > 1 && strcmp(argv[1], "BPF") == 0;
  signal(SIGTERM, on_signal); signal(SIGINT, on_signal);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  must(ep, "epoll_create1");
  int fd[4];
  for (int l = 0; l < 4; l++) {
    char ifn[8]; snprintf(ifn, sizeof ifn, "eth%d", l);
    int ifindex = (int)if_nametoindex(ifn);
    fd[l] = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 112);
    must(fd[l], "socket");
    int one = 1, zero = 0, ttl = 255;
    must(setsockopt(fd[l], IPPROTO_IP, IP_HDRINCL, &one, sizeof one), "IP_HDRINCL");
    must(setsockopt(fd[l], SOL_SOCKET, SO_BINDTOIFINDEX, &ifindex, sizeof ifindex), "SO_BINDTOIFINDEX");
    struct ip_mreqn m = {.imr_ifindex = ifindex};
    must(setsockopt(fd[l], IPPROTO_IP, IP_MULTICAST_IF, &m, sizeof m), "IP_MULTICAST_IF");
    must(setsockopt(fd[l], IPPROTO_IP, IP_MULTICAST_LOOP, &zero, sizeof zero), "IP_MULTICAST_LOOP");
    must(setsockopt(fd[l], IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl), "IP_MULTICAST_TTL");
    must(setsockopt(fd[l], IPPROTO_IP, IP_MULTICAST_ALL, &zero, sizeof zero), "IP_MULTICAST_ALL");
    struct ip_mreqn join = {.imr_ifindex = ifindex};
    inet_pton(AF_INET, "224.0.0.18", &join.imr_multiaddr);
    must(setsockopt(fd[l], IPPROTO_IP, IP_ADD_MEMBERSHIP, &join, sizeof join), "IP_ADD_MEMBERSHIP");
    if (bpf) {
      // Keep a packet only if its VRRP byte 0 is 0x21 or 0x31 (version 2/3, type advertisement).
      struct sock_filter code[] = {
          BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),        // X = IP header length
          BPF_STMT(BPF_LD | BPF_B | BPF_IND, 0),         // A = first VRRP byte
          BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x21, 1, 0),
          BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x31, 0, 1),
          BPF_STMT(BPF_RET | BPF_K, 0xffff),
          BPF_STMT(BPF_RET | BPF_K, 0),
      };
      struct sock_fprog prog = {.len = sizeof code / sizeof code[0], .filter = code};
      must(setsockopt(fd[l], SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog), "SO_ATTACH_FILTER");
    }
    struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.u32 = (unsigned)l};
    must(epoll_ctl(ep, EPOLL_CTL_ADD, fd[l], &ev), "epoll_ctl");
  }
  static char buf[SLOTS][SLOT_LEN];
  static struct iovec iov[SLOTS];
  static struct mmsghdr h[SLOTS];
  unsigned long long packets = 0, reads = 0, wakeups = 0;
  while (!stop) {
    struct epoll_event evs[8];
    int n = epoll_wait(ep, evs, 8, -1);
    if (n < 0) continue; // EINTR: the signal sets stop
    wakeups++;
    for (int e = 0; e < n; e++) {
      int s = fd[evs[e].data.u32 & 3];
      for (;;) {
        for (int i = 0; i < SLOTS; i++) {
          iov[i] = (struct iovec){.iov_base = buf[i], .iov_len = SLOT_LEN};
          h[i].msg_hdr = (struct msghdr){.msg_iov = &iov[i], .msg_iovlen = 1};
        }
        int got = recvmmsg(s, h, SLOTS, MSG_DONTWAIT, NULL);
        reads++;
        if (got <= 0) break;
        packets += (unsigned)got;
        if (got < SLOTS) break;
      }
    }
  }
  printf("receive-floor: %llu packets, %llu recvmmsg, %llu wake-ups\n", packets, reads, wakeups);
  return 0;
}
