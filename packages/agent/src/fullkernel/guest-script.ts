// The script a guest runs once its root is up (PID 1, the shared root's /bin/sh): private
// /run, the modules the lab asked for (with the shared root's kmod modprobe, which reads
// compressed modules too), its underlay address on eth0, then a command loop over its job
// share. The loop is the guest side of GuestRunner: the machine drops a request script
// `req/<n>.sh` (renamed into place whole), the guest claims it by moving it to `run/`, runs it
// in the background and leaves `res/<n>.out`, `res/<n>.err` and, last and atomically,
// `res/<n>.rc`. A file `halt` in the share powers the guest off. The share is a virtio-9p
// mount without caching, so both sides see each other's files at once.

export interface GuestScriptOptions {
  /** The share's path, identical on the machine and in the guest. */
  readonly share: string;
  readonly hostname: string;
  /** Underlay address with prefix length, e.g. 198.18.0.1/24. */
  readonly address: string;
  readonly modules: readonly string[];
  /** Seconds between polls of req/. */
  readonly pollSeconds: number;
  /**
   * A management NIC (the VM lab): its device, its address with prefix length, and an sshd on
   * it with the host key and authorized keys in the share (both files must be mode 0600).
   */
  readonly management?: { readonly dev: string; readonly address: string; readonly hostKey: string; readonly authorizedKeys: string };
}

/** sshd's argv for a guest: no config file, key login as root only, log to the share. */
export function guestSshdArgv(m: { hostKey: string; authorizedKeys: string; logFile: string }): string[] {
  return [
    '/usr/sbin/sshd', '-f', '/dev/null', '-E', m.logFile,
    '-o', `HostKey=${m.hostKey}`, '-o', `AuthorizedKeysFile=${m.authorizedKeys}`, '-o', 'PermitRootLogin=prohibit-password',
    '-o', 'PasswordAuthentication=no', '-o', 'KbdInteractiveAuthentication=no', '-o', 'UsePAM=no', '-o', 'StrictModes=no',
    '-o', 'PidFile=/run/sshd.pid', '-o', 'UseDNS=no', '-o', 'Subsystem=sftp /usr/lib/openssh/sftp-server',
  ];
}

function q(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export function guestScript(o: GuestScriptOptions): string {
  if (!/^[a-z0-9-]{1,63}$/.test(o.hostname)) throw new Error(`guest hostname ${JSON.stringify(o.hostname)}`);
  for (const m of o.modules) if (!/^[A-Za-z0-9_-]+$/.test(m)) throw new Error(`module name ${JSON.stringify(m)}`);
  if (o.management && (!/^[a-z0-9]{1,15}$/.test(o.management.dev) || !/^[0-9.]+\/\d+$/.test(o.management.address))) throw new Error(`management NIC ${JSON.stringify(o.management)}`);
  const S = q(o.share);
  return [
    '#!/bin/sh',
    'export PATH=/usr/sbin:/usr/bin:/sbin:/bin',
    `S=${S}`,
    'mount -t tmpfs -o mode=0755 tmpfs /run',
    'mkdir -p /run/netns /run/lock /dev/pts /dev/shm',
    'mount -t devpts devpts /dev/pts',
    'mount -t tmpfs tmpfs /dev/shm',
    'log() { echo "snfk: $*" > /dev/console; echo "$*" >> "$S/boot.log"; }',
    ...o.modules.map((m) => `/sbin/modprobe ${m} 2>> "$S/boot.log" || log "modprobe ${m} failed"`),
    `hostname ${o.hostname}`,
    'ip link set lo up',
    'i=0; while ! ip link show eth0 > /dev/null 2>&1 && [ $i -lt 100 ]; do i=$((i+1)); sleep 0.1; done',
    `ip addr add ${o.address} dev eth0 && ip link set eth0 up || log "eth0 failed"`,
    ...(o.management
      ? [
          `ip addr add ${o.management.address} dev ${o.management.dev} && ip link set ${o.management.dev} up || log "${o.management.dev} failed"`,
          // A host of its own: root's home starts empty, not with the machine's dotfiles (a shell
          // profile that runs tools at login would slow or block every SSH command).
          'mount -t tmpfs -o mode=0700 tmpfs /root',
          'mkdir -p /run/sshd && chmod 0755 /run/sshd',
          `${guestSshdArgv({ hostKey: o.management.hostKey, authorizedKeys: o.management.authorizedKeys, logFile: `${o.share}/sshd.log` }).map(q).join(' ')} || log "sshd failed"`,
        ]
      : []),
    'mkdir -p "$S/req" "$S/run" "$S/res"',
    'uname -r > "$S/release"',
    'echo ready > "$S/ready.tmp" && mv "$S/ready.tmp" "$S/ready"',
    'log ready',
    'while [ ! -e "$S/halt" ]; do',
    '  for f in "$S"/req/*.sh; do',
    '    [ -e "$f" ] || continue',
    '    n=${f##*/}; n=${n%.sh}',
    '    mv "$f" "$S/run/$n.sh" || continue',
    '    ( sh "$S/run/$n.sh" > "$S/res/$n.out" 2> "$S/res/$n.err"; echo $? > "$S/res/$n.rc.tmp"; mv "$S/res/$n.rc.tmp" "$S/res/$n.rc" ) &',
    '  done',
    `  sleep ${o.pollSeconds}`,
    'done',
    'log halt',
    'echo o > /proc/sysrq-trigger',
    'sleep 60',
    '',
  ].join('\n');
}
