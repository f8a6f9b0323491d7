/** Turns socket, DNS, TLS and undici errors into reasons a responder can act on. */

interface ErrorLink {
  code: string | undefined;
  message: string;
}

/** The error and its causes (fetch wraps the socket error: `TypeError: fetch failed` ← cause). */
function chain(error: unknown): ErrorLink[] {
  const links: ErrorLink[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current !== undefined && current !== null; depth++) {
    if (current instanceof Error) {
      const code = (current as Error & { code?: unknown }).code;
      links.push({ code: typeof code === 'string' ? code : undefined, message: current.message });
      current = current.cause;
    } else {
      links.push({ code: undefined, message: String(current) });
      break;
    }
  }
  return links;
}

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'HOSTNAME_MISMATCH',
  'EPROTO',
]);

function isTlsCode(code: string): boolean {
  return TLS_CODES.has(code) || /^(CERT_|ERR_TLS_|ERR_SSL_|ERR_OSSL_)/.test(code);
}

/** OpenSSL messages carry a long prefix: "…:SSL routines:tls_validate_record_header:wrong version number:…". */
function shortTlsMessage(message: string): string {
  const openssl = /SSL routines:[^:]*:([^:]+)/.exec(message);
  return (openssl?.[1] ?? message).trim();
}

/** The code of the first error in the chain that has one. */
export function errorCode(error: unknown): string | undefined {
  return chain(error).find((l) => l.code !== undefined)?.code;
}

/**
 * Describes a failed connection or request. `host` is `hostname` or `hostname:port`, without
 * credentials. Returns undefined when the error is not a network error.
 */
export function describeNetworkError(error: unknown, host: string): string | undefined {
  const links = chain(error);
  for (const { code, message } of links) {
    if (code === undefined) continue;
    if (code === 'ECONNREFUSED') return `connection refused by ${host}`;
    if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET' || code === 'UND_ERR_CLOSED') {
      return `connection reset by ${host} before a complete answer`;
    }
    if (code === 'ENOTFOUND' || code === 'EAI_NONAME' || code === 'EAI_FAIL') {
      return `DNS lookup failed for ${hostnameOf(host)}`;
    }
    if (code === 'EAI_AGAIN')
      return `DNS lookup failed for ${hostnameOf(host)} (temporary failure: retry later)`;
    if (code === 'ETIMEDOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') return `connecting to ${host} timed out`;
    if (code === 'UND_ERR_HEADERS_TIMEOUT')
      return `${host} accepted the connection but sent no answer in time`;
    if (code === 'UND_ERR_BODY_TIMEOUT') return `${host} stopped sending the answer part-way`;
    if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH')
      return `${hostnameOf(host)} is unreachable (no route)`;
    if (isTlsCode(code)) return `TLS error: ${shortTlsMessage(message)} (${code})`;
    if (code.startsWith('UND_ERR_') || code.startsWith('E'))
      return `request to ${host} failed: ${message} (${code})`;
  }
  return undefined;
}

function hostnameOf(host: string): string {
  return host.replace(/:\d+$/, '');
}

/** The message of the innermost cause, which is usually the informative one. */
export function innermostMessage(error: unknown): string {
  const links = chain(error);
  return links.at(-1)?.message ?? String(error);
}
