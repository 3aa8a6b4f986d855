import t from 'tap';
import { execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OPENVPN_STATIC_KEY_RE, generateTunnelSecrets } from '../src/secrets.js';

t.test('wireguard: raw base64 X25519 keys that wg agrees with', async (t) => {
  const s = generateTunnelSecrets('wireguard', ['h1', 'h2']);
  t.not(s.h1!.privateKey, s.h2!.privateKey);
  for (const h of ['h1', 'h2']) {
    const k = s[h]!;
    t.match(k.privateKey, /^[A-Za-z0-9+/]{43}=$/);
    t.equal(Buffer.from(k.privateKey, 'base64').length, 32);
    t.equal(k.preSharedKey, '');
    if (existsSync('/usr/bin/wg')) t.equal(execFileSync('/usr/bin/wg', ['pubkey'], { input: k.privateKey + '\n' }).toString().trim(), k.publicKey, 'wg pubkey derives the same public key');
  }
});

t.test('tinc: RSA 2048 PKCS#1 PEM pairs', async (t) => {
  const s = generateTunnelSecrets('tinc', ['a', 'b']);
  const k = s.a!;
  t.match(k.privateKey, /^-----BEGIN RSA PRIVATE KEY-----\n/);
  t.match(k.publicKey, /^-----BEGIN RSA PUBLIC KEY-----\n/);
  const priv = createPrivateKey(k.privateKey);
  t.equal(priv.asymmetricKeyDetails?.modulusLength, 2048);
  t.equal(createPublicKey(priv).export({ type: 'pkcs1', format: 'pem' }), k.publicKey, 'public key belongs to the private key');
  t.not(s.a!.publicKey, s.b!.publicKey);
});

t.test('ipsec: one 32-byte hex PSK shared by every host', async (t) => {
  const s = generateTunnelSecrets('ipsec', ['a', 'b', 'c']);
  t.match(s.a!.preSharedKey, /^[0-9a-f]{64}$/);
  t.equal(s.a!.preSharedKey, s.c!.preSharedKey);
  t.not(generateTunnelSecrets('ipsec', ['a']).a!.preSharedKey, s.a!.preSharedKey, 'fresh per call');
});

t.test('openvpn: a shared 2048-bit static key file openvpn reads', async (t) => {
  const s = generateTunnelSecrets('openvpn', ['a', 'b']);
  const body = s.a!.preSharedKey;
  t.equal(body, s.b!.preSharedKey);
  t.match(body, OPENVPN_STATIC_KEY_RE);
  t.equal(body.match(/^[0-9a-f]{32}$/gm)?.length, 16, '16 lines x 128 bits = 2048 bits');
  if (existsSync('/usr/sbin/openvpn')) {
    // openvpn's own generator writes the same layout.
    const dir = mkdtempSync(join(tmpdir(), 'snsecret-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    execFileSync('/usr/sbin/openvpn', ['--genkey', 'secret', join(dir, 'k')], { stdio: 'ignore' });
    t.match(readFileSync(join(dir, 'k'), 'utf8'), OPENVPN_STATIC_KEY_RE, 'openvpn --genkey output matches the same format');
  }
});

t.test('kinds without secrets, bad input', async (t) => {
  t.same(generateTunnelSecrets('vxlan', ['a']).a, { privateKey: '', publicKey: '', preSharedKey: '' });
  t.throws(() => generateTunnelSecrets('foo', ['a']), { code: 'INVALID_ARGUMENT', field: 'tunnel' });
  t.throws(() => generateTunnelSecrets('wireguard', ['A b']), { code: 'INVALID_ARGUMENT', field: 'hosts[0]' });
  t.throws(() => generateTunnelSecrets('wireguard', ['a', 'a']), { code: 'INVALID_ARGUMENT', field: 'hosts' });
});
