// The kernel floor of 1,000 VRRPv2 adverts a second (advert-floor.sh): 4 raw sockets (eth0..eth3,
// IP_HDRINCL, bound to the device), 250 prebuilt 40-byte packets each, one sendmmsg per socket
// per second. Prints nothing; run it, read its utime/stime from /proc.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
static uint16_t csum(const void *d, int n) { const uint8_t *p = d; uint32_t s = 0;
  for (int i = 0; i + 1 < n; i += 2) s += (p[i] << 8) | p[i + 1]; if (n & 1) s += p[n - 1] << 8;
  while (s >> 16) s = (s & 0xffff) + (s >> 16); return htons(~s); }
int main(int argc, char **argv) {
  const char *src = argc > 1 ? argv[1] : "172.16.0.11";
  static uint8_t pkt[4][250][40]; static struct mmsghdr h[250]; static struct iovec iov[250];
  struct sockaddr_in dst = {.sin_family = AF_INET}; inet_pton(AF_INET, "224.0.0.18", &dst.sin_addr);
  int fd[4];
  for (int l = 0; l < 4; l++) {
    char ifn[8]; snprintf(ifn, sizeof ifn, "eth%d", l);
    fd[l] = socket(AF_INET, SOCK_RAW, 112); int one = 1, zero = 0;
    setsockopt(fd[l], IPPROTO_IP, IP_HDRINCL, &one, sizeof one);
    setsockopt(fd[l], SOL_SOCKET, SO_BINDTODEVICE, ifn, strlen(ifn));
    setsockopt(fd[l], IPPROTO_IP, IP_MULTICAST_LOOP, &zero, sizeof zero);
    struct ip_mreqn m = {.imr_ifindex = if_nametoindex(ifn)};
    setsockopt(fd[l], IPPROTO_IP, IP_MULTICAST_IF, &m, sizeof m);
    char s4[32]; snprintf(s4, sizeof s4, "172.16.%d.11", l);
    for (int v = 0; v < 250; v++) {
      uint8_t *p = pkt[l][v]; memset(p, 0, 40);
      p[0] = 0x45; p[3] = 40; p[8] = 255; p[9] = 112;
      inet_pton(AF_INET, s4, p + 12); inet_pton(AF_INET, "224.0.0.18", p + 16);
      uint16_t c = csum(p, 20); memcpy(p + 10, &c, 2);
      uint8_t *r = p + 20; r[0] = 0x21; r[1] = v + 1; r[2] = 150; r[3] = 1; r[5] = 1;
      r[16] = 10; r[17] = 100 + l; r[18] = v + 1; r[19] = 1;
      c = csum(r, 20); memcpy(r + 6, &c, 2);
    }
  }
  struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t);
  for (;;) {
    for (int l = 0; l < 4; l++) {
      for (int v = 0; v < 250; v++) {
        iov[v].iov_base = pkt[l][v]; iov[v].iov_len = 40;
        h[v].msg_hdr = (struct msghdr){.msg_name = &dst, .msg_namelen = sizeof dst, .msg_iov = &iov[v], .msg_iovlen = 1};
      }
      sendmmsg(fd[l], h, 250, 0);
    }
    t.tv_sec += 1; clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL);
  }
}
