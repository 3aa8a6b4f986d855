// The dashboard's shell: sign-in, navigation and a hash router over four pages. The token the
// user signs in with stays in sessionStorage (this tab only) and is sent as a bearer header;
// nothing of it goes into a URL. A 401 from any call brings the sign-in form back with the
// API's reason. On every page change the page's heading takes focus, so keyboard and screen
// reader users land where the content starts.

import { html } from 'htm/preact';
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, request, setToken, token, whenUnauthorized } from './api.js';
import { AgentsPage } from './pages/agents.js';
import { ExperimentPage } from './pages/experiment.js';
import { ExperimentsPage } from './pages/experiments.js';
import { SubmitPage } from './pages/submit.js';

type Route = { page: 'experiments' } | { page: 'submit' } | { page: 'agents' } | { page: 'experiment'; id: string };

function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  if (parts[0] === 'submit') return { page: 'submit' };
  if (parts[0] === 'agents') return { page: 'agents' };
  if (parts[0] === 'experiments' && parts[1] !== undefined && parts[1] !== '') return { page: 'experiment', id: parts[1] };
  return { page: 'experiments' };
}

function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const on = (): void => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

function SignIn(props: { reason: string | undefined; onSignedIn: () => void }) {
  const [error, setError] = useState<string | undefined>(props.reason);
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    const tok = input.current?.value.trim() ?? '';
    if (tok === '') {
      setError('Enter the API token.');
      return;
    }
    setBusy(true);
    try {
      await request('GET', '/v1/agents', { tok });
      setToken(tok);
      props.onSignedIn();
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? `The controller refused this token: ${err.message}` : (err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return html`
    <main id="main" class="signin">
      <h1>Sign in to the seconet dashboard</h1>
      <form onSubmit=${submit} novalidate>
        <label for="token">API token</label>
        <input id="token" name="token" type="password" ref=${input} autocomplete="off" spellcheck="false"
          aria-describedby=${error === undefined ? 'token-help' : 'token-help token-error'} aria-invalid=${error === undefined ? 'false' : 'true'} />
        <p id="token-help" class="help">A bearer token from the controller's token file (<code>seconet lab up</code> prints where it is). It is kept for this browser tab only.</p>
        ${error === undefined ? null : html`<p id="token-error" class="error" role="alert"><span aria-hidden="true">✗ </span>${error}</p>`}
        <button type="submit" disabled=${busy}>${busy ? 'Checking…' : 'Sign in'}</button>
      </form>
    </main>`;
}

function Shell(props: { route: Route; onSignOut: () => void }) {
  const { route } = props;
  const current = (p: string): string | undefined => (route.page === p || (p === 'experiments' && route.page === 'experiment') ? 'page' : undefined);
  let page;
  if (route.page === 'submit') page = html`<${SubmitPage} />`;
  else if (route.page === 'agents') page = html`<${AgentsPage} />`;
  else if (route.page === 'experiment') page = html`<${ExperimentPage} id=${route.id} key=${route.id} />`;
  else page = html`<${ExperimentsPage} />`;
  return html`
    <a class="skip" href="#main" onClick=${(e: Event) => { e.preventDefault(); document.getElementById('main')?.focus(); }}>Skip to content</a>
    <header class="top">
      <span class="brand">seconet</span>
      <nav aria-label="Main">
        <ul>
          <li><a href="#/experiments" aria-current=${current('experiments')}>Experiments</a></li>
          <li><a href="#/submit" aria-current=${current('submit')}>Submit</a></li>
          <li><a href="#/agents" aria-current=${current('agents')}>Agents</a></li>
        </ul>
      </nav>
      <button type="button" class="secondary" onClick=${props.onSignOut}>Sign out</button>
    </header>
    <main id="main" tabindex="-1">${page}</main>`;
}

function App() {
  const [signedIn, setSignedIn] = useState(() => token() !== null);
  const [reason, setReason] = useState<string | undefined>(undefined);
  const route = useRoute();
  // Marks the moment the first screen is interactive (bench/dashboard-load.ts and the browser test read it).
  useEffect(() => {
    performance.mark('seconet:usable');
  }, []);
  useEffect(() => {
    whenUnauthorized((e) => {
      setToken(null);
      setReason(`Signed out: ${e.message}`);
      setSignedIn(false);
    });
  }, []);
  useEffect(() => {
    if (!signedIn) return;
    const h = document.querySelector<HTMLElement>('main h1');
    if (h) {
      h.tabIndex = -1;
      h.focus({ preventScroll: true });
    }
  }, [route, signedIn]);
  if (!signedIn) return html`<${SignIn} reason=${reason} onSignedIn=${() => { setReason(undefined); setSignedIn(true); }} />`;
  return html`<${Shell} route=${route} onSignOut=${() => { setToken(null); setReason(undefined); setSignedIn(false); }} />`;
}

render(html`<${App} />`, document.getElementById('app')!);
