import t from 'tap';
import { objectName, requireName, shortHash } from '@seconet/core';

t.test('object names are deterministic and fit IFNAMSIZ', async (t) => {
  const a = objectName('sn01', 'v', ['scope-a', 'c0']);
  t.equal(a, objectName('sn01', 'v', ['scope-a', 'c0']));
  t.not(a, objectName('sn01', 'v', ['scope-a', 'c1']));
  t.ok(a.length <= 15);
  t.match(a, /^sn01v[a-z2-7]{8}$/);
  t.equal(shortHash(['x'], 12).length, 12);
});

t.test('names with shell metacharacters are refused', async (t) => {
  for (const bad of ['a;b', '$(reboot)', 'a b', 'A', '-x', '`id`', 'a|b', '']) {
    let field: string | undefined;
    try {
      requireName('scope', bad);
    } catch (e) {
      field = (e as { field?: string }).field;
    }
    t.equal(field, 'scope', JSON.stringify(bad));
  }
  t.equal(requireName('scope', 'exp-1'), 'exp-1');
});
