// freePort draws loopback ports outside the kernel's ephemeral range, so an outgoing connection's
// source port cannot take a port a daemon is about to bind; the port is really bindable.
import { createServer } from 'node:net';
import t from 'tap';
import { ephemeralPortRange, freePort, freePorts } from '../src/free-port.js';

t.test('ports are free, bindable and outside the ephemeral range', async (t) => {
  const [lo, hi] = ephemeralPortRange();
  t.ok(lo > 0 && hi >= lo, `ephemeral range ${lo}-${hi}`);
  const ports = await freePorts(20);
  t.equal(new Set(ports).size, 20, 'distinct');
  for (const p of ports) t.ok(p < lo || p > hi, `${p} is outside ${lo}-${hi}`);
  const port = await freePort();
  await new Promise<void>((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve()));
  });
  t.pass(`bound ${port}`);
});
