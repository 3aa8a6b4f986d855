// Why an agent cannot be reached, when gRPC only says "failed to connect". grpc-js keeps the
// TLS handshake's error for some failures (the agent's certificate expired) and loses it for
// others (the agent refused the controller's client certificate: the client sees the
// connection close). One TLS handshake with the same files, name and ALPN as the gRPC channel
// recovers OpenSSL's own words, so GET /v1/agents can say "certificate has expired" instead of
// "unavailable". Only called after a call failed with UNAVAILABLE; it never sends a request.

import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { connect, type ConnectionOptions } from 'node:tls';
import type { AgentEndpointConfig } from './registry.js';

/** OpenSSL verify / alert codes and what the operator should do about them. */
const HINTS: ReadonlyArray<[RegExp, string]> = [
  [/^CERT_HAS_EXPIRED$/, "the agent's certificate has expired: issue it a new one"],
  [/^CERT_NOT_YET_VALID$/, "the agent's certificate is not valid yet: check both hosts' clocks, or issue one valid now"],
  [/^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT)$/, "the agent's certificate is not signed by the CA in the controller's tls.ca"],
  [/^ERR_TLS_CERT_ALTNAME_INVALID$/, "the agent's certificate does not name the host the controller dials (its name or serverName)"],
  [/ALERT_CERTIFICATE_EXPIRED$/, "the agent refused the controller's client certificate: it has expired"],
  [/ALERT_(UNKNOWN_CA|BAD_CERTIFICATE|CERTIFICATE_UNKNOWN|DECRYPT_ERROR)$/, "the agent refused the controller's client certificate: it does not trust its CA"],
  [/ALERT_CERTIFICATE_REQUIRED$/, 'the agent wants a client certificate the controller did not send'],
];

/** What is wrong with the controller's own client certificate, as far as it can tell alone. */
function ownCertificateProblem(pem: Buffer, path: string, now = Date.now()): string | undefined {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch (e) {
    return `the controller's client certificate ${path} does not parse: ${(e as Error).message}`;
  }
  if (now > Date.parse(cert.validTo)) return `the controller's client certificate ${path} expired on ${cert.validTo}: issue a new one`;
  if (now < Date.parse(cert.validFrom)) return `the controller's client certificate ${path} is valid only from ${cert.validFrom}`;
  return undefined;
}

function hostAndPort(address: string): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(address);
  return { host: m?.[1] ?? address, port: Number(m?.[2] ?? 0) };
}

/**
 * One TLS handshake with the agent as the gRPC channel would make it. Resolves undefined when
 * the handshake succeeds (TLS is not the problem) or the TLS files cannot be read, otherwise a
 * sentence naming the failure (no TCP connection, or the handshake's own error with OpenSSL's
 * message and code and, where known, what to do), the agent and its address.
 */
export async function diagnoseAgentTls(endpoint: AgentEndpointConfig, timeoutMs = 3000): Promise<string | undefined> {
  let opts: ConnectionOptions;
  try {
    opts = {
      ...hostAndPort(endpoint.address),
      ca: readFileSync(endpoint.tls.ca),
      cert: readFileSync(endpoint.tls.cert),
      key: readFileSync(endpoint.tls.key),
      servername: endpoint.serverName ?? endpoint.name,
      ALPNProtocols: ['h2'],
    };
  } catch {
    // Without its files the channel could not have been made either: not what failed here.
    return undefined;
  }
  return new Promise((resolve) => {
    const socket = connect(opts);
    let settled = false;
    const finish = (problem: string | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(problem);
    };
    const timer = setTimeout(() => finish(`TLS handshake with agent ${endpoint.name} at ${endpoint.address} did not finish within ${timeoutMs} ms`), timeoutMs);
    let tcpUp = false;
    socket.once('connect', () => (tcpUp = true));
    socket.once('error', (err: NodeJS.ErrnoException) => {
      const code = err.code ?? '';
      if (!tcpUp) return finish(`agent ${endpoint.name} at ${endpoint.address} does not accept connections: ${err.message}`);
      const hint = HINTS.find(([re]) => re.test(code))?.[1];
      finish(`TLS handshake with agent ${endpoint.name} at ${endpoint.address} failed: ${err.message}${code ? ` (${code})` : ''}${hint ? `; ${hint}` : ''}`);
    });
    // Under TLS 1.3 the server checks the client's certificate after the client considers the
    // handshake done; its refusal arrives as an alert right after. Wait a moment for it.
    socket.once('secureConnect', () => {
      socket.resume();
      setTimeout(() => finish(undefined), 300);
    });
    // Node's TLS 1.3 server drops a client it does not authorize without an alert: the
    // connection ends right after the handshake. Say so, with what the controller can see.
    socket.once('end', () => {
      if (!socket.authorized) return;
      const own = ownCertificateProblem(opts.cert as Buffer, endpoint.tls.cert);
      finish(`TLS: agent ${endpoint.name} at ${endpoint.address} closed the connection right after the handshake: it refused the controller's client certificate${own === undefined ? ' (is it signed by the CA the agent trusts?)' : `: ${own}`}`);
    });
  });
}
