import t from 'tap';
import * as main from '../src/index.js';
import * as testing from '../src/testing/index.js';

t.test('test support is reachable only through the testing entry point', async (t) => {
  const exported = Object.keys(main);
  for (const name of ['reportFixture', 'FIXTURE_SPEC']) {
    t.notOk(exported.includes(name), `@seconet/controller does not export ${name}`);
    t.ok(name in testing, `@seconet/controller/testing exports ${name}`);
  }
  t.ok(exported.includes('buildApi') && exported.includes('renderReport'), 'the production API is still exported');
  t.equal(testing.reportFixture({ done: 1 }).rows.length > 0, true, 'the fixture still builds report data');
});
