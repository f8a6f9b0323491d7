import { describe, expect, it } from 'vitest';
import { describeNetworkError, errorCode } from '../../src/health/network-errors.ts';

/** The shape undici gives: TypeError('fetch failed') caused by the socket error carrying a code. */
function fetchFailure(code: string, message: string): TypeError {
  return new TypeError('fetch failed', { cause: Object.assign(new Error(message), { code }) });
}

describe('network error reasons', () => {
  it('classifies by the code anywhere in the cause chain', () => {
    const host = 'api.example.com:443';
    expect(describeNetworkError(fetchFailure('ECONNREFUSED', 'connect ECONNREFUSED'), host)).toBe(
      'connection refused by api.example.com:443',
    );
    expect(describeNetworkError(fetchFailure('UND_ERR_SOCKET', 'other side closed'), host)).toBe(
      'connection reset by api.example.com:443 before a complete answer',
    );
    expect(describeNetworkError(fetchFailure('ENOTFOUND', 'getaddrinfo ENOTFOUND'), host)).toBe(
      'DNS lookup failed for api.example.com',
    );
    expect(describeNetworkError(fetchFailure('EAI_AGAIN', 'getaddrinfo EAI_AGAIN'), host)).toBe(
      'DNS lookup failed for api.example.com (temporary failure: retry later)',
    );
    expect(describeNetworkError(fetchFailure('UND_ERR_CONNECT_TIMEOUT', 'Connect Timeout Error'), host)).toBe(
      'connecting to api.example.com:443 timed out',
    );
    expect(describeNetworkError(fetchFailure('CERT_HAS_EXPIRED', 'certificate has expired'), host)).toBe(
      'TLS error: certificate has expired (CERT_HAS_EXPIRED)',
    );
    expect(
      describeNetworkError(fetchFailure('ERR_TLS_CERT_ALTNAME_INVALID', 'Hostname/IP does not match'), host),
    ).toBe('TLS error: Hostname/IP does not match (ERR_TLS_CERT_ALTNAME_INVALID)');
  });

  it('leaves errors that are not about the network to the caller', () => {
    expect(describeNetworkError(new Error('something else'), 'x')).toBeUndefined();
    expect(errorCode(fetchFailure('ECONNRESET', 'read ECONNRESET'))).toBe('ECONNRESET');
  });
});
