import t from 'tap';
import { cidrContains, cidrsOverlap, containerCidr, isIPv4, nthHost, parseCidr, requireIPv4, SeconetError } from '@seconet/core';

t.test('isIPv4 accepts dotted quads only', async (t) => {
  t.ok(isIPv4('198.18.0.1'));
  for (const bad of ['198.18.0', '198.18.0.256', '01.2.3.4', '1.2.3.4; rm -rf /', '', '1.2.3.4/24']) t.notOk(isIPv4(bad), bad);
});

t.test('cidr arithmetic', async (t) => {
  t.same(parseCidr('198.19.1.7/24'), { address: '198.19.1.7', network: '198.19.1.0', prefix: 24 });
  t.ok(cidrContains('198.19.1.0/24', '198.19.1.200'));
  t.notOk(cidrContains('198.19.1.0/24', '198.19.2.1'));
  t.ok(cidrsOverlap('198.18.0.0/15', '198.19.3.0/24'));
  t.notOk(cidrsOverlap('198.19.1.0/24', '198.19.2.0/24'));
  t.equal(nthHost('198.19.1.0/24', 1), '198.19.1.1');
  t.equal(containerCidr(3), '198.19.3.0/24');
});

t.test('validators name the field', async (t) => {
  try {
    requireIPv4('state.tunnel.localAddress', '1.2.3.4;reboot');
    t.fail('should throw');
  } catch (e) {
    t.type(e, SeconetError);
    t.equal((e as SeconetError).field, 'state.tunnel.localAddress');
    t.equal((e as SeconetError).code, 'INVALID_ARGUMENT');
  }
});
