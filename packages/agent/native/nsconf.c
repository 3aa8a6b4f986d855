// sn-nsconf: configures links, addresses, routes and neighbours inside many network namespaces
// from one process. `ip -n NS -batch` costs a process per namespace (exec, dynamic linking,
// a mount namespace and a fresh sysfs for the switch); this helper enters each namespace with
// setns(2), opens an rtnetlink socket there and sends the requests directly.
//
// Input (stdin), one request per line, in the `ip -batch` syntax the agent writes, restricted
// to what container namespaces need:
//   netns NAME                                   enter /run/netns/NAME (required first)
//   link set dev IF [addrgenmode none|eui64] [mtu N] [up|down]
//   addr add|replace A.B.C.D/P dev IF
//   route add|replace default|A.B.C.D/P [via A.B.C.D] dev IF [onlink] [scope link]
//   neigh add|replace A.B.C.D lladdr XX:XX:XX:XX:XX:XX dev IF nud permanent
// Anything else is an error. Stops at the first failure and exits 1 with one line on stderr
// naming the namespace, the input line and the kernel's answer; exits 0 after the last line.
// Never runs another program.

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef IN6_ADDR_GEN_MODE_NONE
#define IN6_ADDR_GEN_MODE_EUI64 0
#define IN6_ADDR_GEN_MODE_NONE 1
#endif

#define MAX_TOKENS 16
#define BUF 1024

static char cur_ns[256] = "";
static unsigned long lineno = 0;
static char cur_line[BUF];
static int nl = -1;
static unsigned int seq = 1;

static void fail(const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "sn-nsconf: line %lu", lineno);
  if (cur_ns[0] != '\0') fprintf(stderr, " (netns %s)", cur_ns);
  fprintf(stderr, " `%s`: ", cur_line);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  exit(1);
}

struct req {
  struct nlmsghdr h;
  char body[512];
};

static void *tail(struct req *r) { return (char *)r + NLMSG_ALIGN(r->h.nlmsg_len); }

static struct rtattr *attr(struct req *r, unsigned short type, const void *data, size_t len) {
  struct rtattr *a = tail(r);
  size_t need = RTA_LENGTH(len);
  if (NLMSG_ALIGN(r->h.nlmsg_len) + RTA_ALIGN(need) > sizeof(*r)) fail("request too large");
  a->rta_type = type;
  a->rta_len = (unsigned short)need;
  if (len > 0) memcpy(RTA_DATA(a), data, len);
  r->h.nlmsg_len = NLMSG_ALIGN(r->h.nlmsg_len) + RTA_ALIGN(need);
  return a;
}

static void nest_end(struct req *r, struct rtattr *a) { a->rta_len = (unsigned short)((char *)tail(r) - (char *)a); }

static void init(struct req *r, unsigned short type, unsigned short flags, size_t hdr) {
  memset(r, 0, sizeof(*r));
  r->h.nlmsg_len = NLMSG_LENGTH(hdr);
  r->h.nlmsg_type = type;
  r->h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
}

/** Sends one request and waits for its acknowledgement. */
static void talk(struct req *r) {
  r->h.nlmsg_seq = ++seq;
  struct sockaddr_nl k = {.nl_family = AF_NETLINK};
  if (sendto(nl, r, r->h.nlmsg_len, 0, (struct sockaddr *)&k, sizeof(k)) < 0) fail("netlink send: %s", strerror(errno));
  char buf[8192];
  for (;;) {
    ssize_t n = recv(nl, buf, sizeof(buf), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("netlink receive: %s", strerror(errno));
    }
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (unsigned int)n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_seq != r->h.nlmsg_seq) continue;
      if (h->nlmsg_type == NLMSG_ERROR) {
        struct nlmsgerr *e = NLMSG_DATA(h);
        if (e->error == 0) return;
        fail("RTNETLINK answers: %s", strerror(-e->error));
      }
    }
  }
}

static int valid_ns(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > 200 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0) return 0;
  for (const char *p = s; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.')) return 0;
  return 1;
}

static void enter(const char *name) {
  if (!valid_ns(name)) fail("invalid namespace name");
  char path[300];
  snprintf(path, sizeof(path), "/run/netns/%s", name);
  snprintf(cur_ns, sizeof(cur_ns), "%s", name);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail("cannot open %s: %s", path, strerror(errno));
  if (setns(fd, CLONE_NEWNET) < 0) fail("setns %s: %s", path, strerror(errno));
  close(fd);
  if (nl >= 0) close(nl);
  // The socket belongs to the namespace the process is in when it is created.
  nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (nl < 0) fail("netlink socket: %s", strerror(errno));
  struct sockaddr_nl local = {.nl_family = AF_NETLINK};
  if (bind(nl, (struct sockaddr *)&local, sizeof(local)) < 0) fail("netlink bind: %s", strerror(errno));
}

static int ifindex(const char *name) {
  if (strlen(name) == 0 || strlen(name) >= IFNAMSIZ) fail("invalid interface name %s", name);
  unsigned int i = if_nametoindex(name);
  if (i == 0) fail("Cannot find device \"%s\"", name);
  return (int)i;
}

static void v4(const char *s, struct in_addr *a) {
  if (inet_pton(AF_INET, s, a) != 1) fail("invalid IPv4 address %s", s);
}

static void v4prefix(const char *s, struct in_addr *a, unsigned char *plen) {
  char tmp[64];
  if (strlen(s) >= sizeof(tmp)) fail("invalid prefix %s", s);
  strcpy(tmp, s);
  char *slash = strchr(tmp, '/');
  long p = 32;
  if (slash != NULL) {
    *slash = '\0';
    char *end;
    p = strtol(slash + 1, &end, 10);
    if (*end != '\0' || slash[1] == '\0' || p < 0 || p > 32) fail("invalid prefix length in %s", s);
  }
  v4(tmp, a);
  *plen = (unsigned char)p;
}

static unsigned short create_flags(const char *verb) {
  if (strcmp(verb, "add") == 0) return NLM_F_CREATE | NLM_F_EXCL;
  if (strcmp(verb, "replace") == 0) return NLM_F_CREATE | NLM_F_REPLACE;
  fail("unsupported verb %s (add or replace)", verb);
  return 0;
}

static void do_link(char **t, int n) {
  if (n < 4 || strcmp(t[1], "set") != 0 || strcmp(t[2], "dev") != 0) fail("expected `link set dev IF ...`");
  struct req r;
  init(&r, RTM_NEWLINK, 0, sizeof(struct ifinfomsg));
  struct ifinfomsg *ifi = NLMSG_DATA(&r.h);
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = ifindex(t[3]);
  for (int i = 4; i < n; i++) {
    if (strcmp(t[i], "up") == 0) {
      ifi->ifi_change |= IFF_UP;
      ifi->ifi_flags |= IFF_UP;
    } else if (strcmp(t[i], "down") == 0) {
      ifi->ifi_change |= IFF_UP;
      ifi->ifi_flags &= ~IFF_UP;
    } else if (strcmp(t[i], "mtu") == 0 && i + 1 < n) {
      char *end;
      long m = strtol(t[++i], &end, 10);
      if (*end != '\0' || m < 68 || m > 65535) fail("invalid mtu %s", t[i]);
      unsigned int mtu = (unsigned int)m;
      attr(&r, IFLA_MTU, &mtu, sizeof(mtu));
    } else if (strcmp(t[i], "addrgenmode") == 0 && i + 1 < n) {
      unsigned char mode;
      i++;
      if (strcmp(t[i], "none") == 0) mode = IN6_ADDR_GEN_MODE_NONE;
      else if (strcmp(t[i], "eui64") == 0) mode = IN6_ADDR_GEN_MODE_EUI64;
      else fail("unsupported addrgenmode %s", t[i]);
      struct rtattr *spec = attr(&r, IFLA_AF_SPEC, NULL, 0);
      struct rtattr *inet6 = attr(&r, AF_INET6, NULL, 0);
      attr(&r, IFLA_INET6_ADDR_GEN_MODE, &mode, sizeof(mode));
      nest_end(&r, inet6);
      nest_end(&r, spec);
    } else {
      fail("unsupported link option %s", t[i]);
    }
  }
  talk(&r);
}

static void do_addr(char **t, int n) {
  if (n != 5 || strcmp(t[3], "dev") != 0) fail("expected `addr add|replace A.B.C.D/P dev IF`");
  struct req r;
  init(&r, RTM_NEWADDR, create_flags(t[1]), sizeof(struct ifaddrmsg));
  struct ifaddrmsg *ifa = NLMSG_DATA(&r.h);
  struct in_addr a;
  unsigned char plen;
  v4prefix(t[2], &a, &plen);
  ifa->ifa_family = AF_INET;
  ifa->ifa_prefixlen = plen;
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  ifa->ifa_index = (unsigned int)ifindex(t[4]);
  attr(&r, IFA_LOCAL, &a, sizeof(a));
  attr(&r, IFA_ADDRESS, &a, sizeof(a));
  talk(&r);
}

static void do_route(char **t, int n) {
  if (n < 5) fail("expected `route add|replace DST [via GW] dev IF [onlink] [scope link]`");
  struct req r;
  init(&r, RTM_NEWROUTE, create_flags(t[1]), sizeof(struct rtmsg));
  struct rtmsg *rt = NLMSG_DATA(&r.h);
  rt->rtm_family = AF_INET;
  rt->rtm_table = RT_TABLE_MAIN;
  rt->rtm_protocol = RTPROT_BOOT;
  rt->rtm_scope = RT_SCOPE_UNIVERSE;
  rt->rtm_type = RTN_UNICAST;
  struct in_addr dst = {0};
  unsigned char plen = 0;
  if (strcmp(t[2], "default") != 0) v4prefix(t[2], &dst, &plen);
  rt->rtm_dst_len = plen;
  if (plen > 0) attr(&r, RTA_DST, &dst, sizeof(dst));
  int have_dev = 0, have_via = 0;
  for (int i = 3; i < n; i++) {
    if (strcmp(t[i], "via") == 0 && i + 1 < n) {
      struct in_addr gw;
      v4(t[++i], &gw);
      attr(&r, RTA_GATEWAY, &gw, sizeof(gw));
      have_via = 1;
    } else if (strcmp(t[i], "dev") == 0 && i + 1 < n) {
      int oif = ifindex(t[++i]);
      attr(&r, RTA_OIF, &oif, sizeof(oif));
      have_dev = 1;
    } else if (strcmp(t[i], "onlink") == 0) {
      rt->rtm_flags |= RTNH_F_ONLINK;
    } else if (strcmp(t[i], "scope") == 0 && i + 1 < n && strcmp(t[i + 1], "link") == 0) {
      rt->rtm_scope = RT_SCOPE_LINK;
      i++;
    } else {
      fail("unsupported route option %s", t[i]);
    }
  }
  if (!have_dev) fail("route needs dev IF");
  // What `ip route` does: a route without a gateway is link-scoped unless told otherwise.
  if (!have_via) rt->rtm_scope = RT_SCOPE_LINK;
  talk(&r);
}

static void do_neigh(char **t, int n) {
  if (n != 9 || strcmp(t[3], "lladdr") != 0 || strcmp(t[5], "dev") != 0 || strcmp(t[7], "nud") != 0 || strcmp(t[8], "permanent") != 0)
    fail("expected `neigh add|replace A.B.C.D lladdr MAC dev IF nud permanent`");
  struct req r;
  init(&r, RTM_NEWNEIGH, create_flags(t[1]), sizeof(struct ndmsg));
  struct ndmsg *nd = NLMSG_DATA(&r.h);
  struct in_addr a;
  v4(t[2], &a);
  unsigned char mac[6];
  unsigned int b[6];
  char extra;
  if (sscanf(t[4], "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &extra) != 6 || strlen(t[4]) != 17) fail("invalid lladdr %s", t[4]);
  for (int i = 0; i < 6; i++) mac[i] = (unsigned char)b[i];
  nd->ndm_family = AF_INET;
  nd->ndm_state = NUD_PERMANENT;
  nd->ndm_ifindex = ifindex(t[6]);
  attr(&r, NDA_DST, &a, sizeof(a));
  attr(&r, NDA_LLADDR, mac, sizeof(mac));
  talk(&r);
}

int main(int argc, char **argv) {
  (void)argv;
  if (argc != 1) {
    fprintf(stderr, "usage: sn-nsconf < script (netns NAME, then link/addr/route/neigh lines)\n");
    return 2;
  }
  char line[BUF];
  unsigned long requests = 0, namespaces = 0;
  while (fgets(line, sizeof(line), stdin) != NULL) {
    lineno++;
    size_t len = strlen(line);
    if (len > 0 && line[len - 1] == '\n') line[--len] = '\0';
    else if (!feof(stdin)) {
      cur_line[0] = '\0';
      fail("line longer than %d characters", BUF - 2);
    }
    snprintf(cur_line, sizeof(cur_line), "%s", line);
    char *t[MAX_TOKENS];
    int n = 0;
    for (char *s = strtok(line, " \t"); s != NULL; s = strtok(NULL, " \t")) {
      if (n == MAX_TOKENS) fail("too many words");
      t[n++] = s;
    }
    if (n == 0 || t[0][0] == '#') continue;
    if (strcmp(t[0], "netns") == 0) {
      if (n != 2) fail("expected `netns NAME`");
      enter(t[1]);
      namespaces++;
      continue;
    }
    if (nl < 0) fail("no `netns NAME` line before the first request");
    if (strcmp(t[0], "link") == 0) do_link(t, n);
    else if (strcmp(t[0], "addr") == 0) do_addr(t, n);
    else if (strcmp(t[0], "route") == 0) do_route(t, n);
    else if (strcmp(t[0], "neigh") == 0) do_neigh(t, n);
    else fail("unsupported object %s (link, addr, route, neigh)", t[0]);
    requests++;
  }
  if (ferror(stdin)) {
    cur_line[0] = '\0';
    fail("reading stdin: %s", strerror(errno));
  }
  printf("%lu namespaces, %lu requests\n", namespaces, requests);
  return 0;
}
