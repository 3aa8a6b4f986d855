// Test support of the agent package (`@seconet/agent/testing`): a Runner that records argv and
// answers from scripted responses. Not part of the main entry; production code never sees it.
export { FakeRunner, type FakeCall, type FakeResponse } from './runner/fake-runner.js';
