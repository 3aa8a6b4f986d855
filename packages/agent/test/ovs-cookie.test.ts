import t from 'tap';
import { flowCookie, parseDump, scopeCookie } from '../src/filters/ovs.js';

t.test('a cookie with leading zeros reads back as the cookie that was written', async (t) => {
  // ovs-ofctl prints 0x0a04... as 0xa04...; a scope whose hash starts with 0 must still match.
  let scope = '';
  for (let i = 0; scopeCookie('sn0', `s${i}`)[0] !== '0'; i++) scope = `s${i + 1}`;
  if (scope === '') scope = 's0';
  const written = flowCookie('sn0', scope, { digest: '590f099e' } as Parameters<typeof flowCookie>[2]);
  t.match(written, /^0x0/);
  const printed = `0x${BigInt(written).toString(16)}`;
  t.not(printed, written, 'ovs-ofctl drops the leading zero');
  const rows = parseDump(` cookie=${printed}, priority=30000,ip,nw_src=198.19.1.2,nw_dst=198.19.1.3 actions=NORMAL\n`);
  t.equal(rows.length, 1);
  t.equal(rows[0]!.cookie, written);
});
