// SPDX-License-Identifier: GPL-2.0
// seconet BPF filter: a tc clsact ingress program on every container's host-side veth.
// IPv4 packets whose source and destination both fall inside a guarded network are dropped
// unless the (source, destination) pair is in the allow map; everything else (ARP, IPv6,
// traffic to or from unguarded addresses) returns TC_ACT_UNSPEC, so later tc filters (the bpf
// network solution's redirect at a lower priority) still run.
//
// Rule sets are versioned: every key carries a generation, and `config[0]` names the active
// one. The agent writes a new generation's entries, flips config[0] (one 4-byte array update,
// atomic for every device at once), then deletes the old generation: a changed spec never
// shows a half-loaded rule set. The allow map is a hash, so a lookup costs the same with 10 or
// 100 000 entries; extra (decoy) entries measure map size, not per-rule evaluation cost.
//
// Port-range rules (rule match "port": an allowed pair restricted to a destination port range
// the traffic never uses) live in an LPM trie keyed by (generation, source, destination,
// protocol, destination port), each aligned range one prefix, as CNIs with BPF datapaths keep
// port-range policy. A generation that has such rules carries GEN_PORTS in config[0]; only
// then is a TCP or UDP packet (first fragment) looked up there first, before the pair map, so
// the address-rule path is the same program as without port rules.

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define MAX_RULES 262144 /* two generations of at most 100 000 decoys + 10 000 pairs (x2 directions) */
#define MAX_GUARDED 512 /* two generations of at most 256 networks */
#define MAX_PORT_RULES 200000 /* two generations of at most 100 000 port-range rules */
#define GEN_PORTS 0x80000000u /* config[0]: the active generation has port-range rules */

struct pair_key {
	__u32 gen;
	__u32 src; /* network byte order */
	__u32 dst; /* network byte order */
};

struct guard_key {
	__u32 prefixlen; /* 32 (generation) + network prefix length */
	__u32 gen;
	__u32 addr; /* network byte order */
};

struct port_key {
	__u32 prefixlen; /* 96 (generation, source, destination) + 16 (protocol, pad) + port prefix bits */
	__u32 gen;
	__u32 src; /* network byte order */
	__u32 dst; /* network byte order */
	__u8 proto;
	__u8 pad;
	__u16 dport; /* network byte order */
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, MAX_PORT_RULES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct port_key);
	__type(value, __u8);
} ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_RULES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct pair_key);
	__type(value, __u8);
} allow SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, MAX_GUARDED);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct guard_key);
	__type(value, __u8);
} guarded SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} config SEC(".maps");

#define READ_ONCE_U32(p) (*(volatile __u32 *)(p))

static __always_inline int is_guarded(__u32 gen, __u32 addr)
{
	struct guard_key k = { .prefixlen = 64, .gen = gen, .addr = addr };

	return bpf_map_lookup_elem(&guarded, &k) != NULL;
}

SEC("tc")
int seconet_filter(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip;
	struct pair_key key = {};
	__u32 zero = 0;
	__u32 *gen;
	__u32 g;
	__u32 flags;

	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return TC_ACT_UNSPEC;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end)
		return TC_ACT_UNSPEC;
	gen = bpf_map_lookup_elem(&config, &zero);
	if (!gen)
		return TC_ACT_UNSPEC;
	/* One read: every lookup of this packet uses the same generation. */
	g = READ_ONCE_U32(gen);
	flags = g & GEN_PORTS;
	g &= ~GEN_PORTS;
	if (g == 0 || !is_guarded(g, ip->saddr) || !is_guarded(g, ip->daddr))
		return TC_ACT_UNSPEC;
	if (flags && (ip->protocol == IPPROTO_TCP || ip->protocol == IPPROTO_UDP) && !(ip->frag_off & bpf_htons(0x1fff))) {
		__u32 ihl = ip->ihl;
		__u8 *l4 = (__u8 *)ip + ihl * 4;

		if (ihl >= 5 && ihl <= 15 && (void *)(l4 + 4) <= data_end) {
			struct port_key pk = { .prefixlen = 128, .gen = g, .src = ip->saddr, .dst = ip->daddr, .proto = ip->protocol };

			pk.dport = *(__u16 *)(l4 + 2);
			if (bpf_map_lookup_elem(&ports, &pk))
				return TC_ACT_UNSPEC;
		}
	}
	key.gen = g;
	key.src = ip->saddr;
	key.dst = ip->daddr;
	if (bpf_map_lookup_elem(&allow, &key))
		return TC_ACT_UNSPEC;
	return TC_ACT_SHOT;
}

char LICENSE[] SEC("license") = "GPL";
