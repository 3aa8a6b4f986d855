// @seconet/controller/testing: support for tests and demos, kept out of the controller's public
// entry point. Nothing under src/ outside this directory imports from it.
export { reportFixture, FIXTURE_SPEC, type FixtureOptions } from './report-fixture.js';
