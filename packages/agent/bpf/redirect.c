// SPDX-License-Identifier: GPL-2.0
// tc clsact ingress program of the `bpf` network solution, attached to every host-side veth.
// An IPv4 packet whose destination is a container of this host (a key of redirect_map) gets
// the L2 header the destination expects (its eth0 MAC as destination, its gateway veth's MAC
// as source), a TTL decrement as a router hop would give it, and goes straight into the
// destination namespace with bpf_redirect_peer, skipping the host stack. Everything else
// (ARP, traffic to other hosts, the host itself) continues with TC_ACT_OK to the routing of
// the `routing` solution underneath. A packet filter attached at a lower prio runs first and
// returns TC_ACT_UNSPEC for allowed traffic, so classification reaches this program (prio 10).
// redirect_stats counts redirected packets and bytes (per CPU) for observation.

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

struct redirect_target {
	__u32 ifindex;   /* host-side veth of the destination container */
	__u8 dmac[6];    /* destination container's eth0 MAC */
	__u8 smac[6];    /* MAC of that veth: the gateway as the destination knows it */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32); /* IPv4 destination, network byte order */
	__type(value, struct redirect_target);
} redirect_map SEC(".maps");

struct redirect_count {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct redirect_count);
} redirect_stats SEC(".maps");

SEC("tc")
int redirect_ingress(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip;
	struct redirect_target *t;
	struct redirect_count *c;
	__u32 zero = 0;
	__u32 check;

	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return TC_ACT_OK;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end)
		return TC_ACT_OK;
	t = bpf_map_lookup_elem(&redirect_map, &ip->daddr);
	if (!t)
		return TC_ACT_OK;
	/* TTL 1: leave it to the stack, which answers with ICMP time exceeded. */
	if (ip->ttl <= 1)
		return TC_ACT_OK;

	/* ip_decrease_ttl (include/net/ip.h): incremental checksum update. */
	check = ip->check;
	check += bpf_htons(0x0100);
	ip->check = (__u16)(check + (check >= 0xFFFF));
	ip->ttl--;
	__builtin_memcpy(eth->h_dest, t->dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, t->smac, ETH_ALEN);

	c = bpf_map_lookup_elem(&redirect_stats, &zero);
	if (c) {
		c->packets++;
		c->bytes += skb->len;
	}
	return bpf_redirect_peer(t->ifindex, 0);
}

char LICENSE[] SEC("license") = "GPL";
