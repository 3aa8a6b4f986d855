// Network solutions whose ensure runs containerBaseLines (lo up, eth0 up, MTU) in each
// container namespace as part of its own per-container batch. For these the reconciler tells
// ensureContainers to skip its batch: one `ip -n` process per container instead of two, which
// is most of the setup time of 200 containers (each process costs milliseconds of kernel work
// for the namespace switch).
export const CONFIGURES_CONTAINER_SIDE: ReadonlySet<string> = new Set(['bridge', 'routing', 'bpf']);
