import { describe, expect, it } from 'vitest';
import { displayUrl, Redactor } from '../../src/health/redact.ts';
import { ref } from './helpers/refs.ts';

describe('redaction', () => {
  it('removes resolved reference values, plain and URL-encoded', () => {
    const redactor = new Redactor();
    redactor.addReferences(`Bearer ${ref('T')}`, { T: 'p@ss/word!' });
    expect(redactor.redact('sent p@ss/word! and p%40ss%2Fword!')).toBe('sent [redacted] and [redacted]');
  });

  it('a reference holding a whole URL keeps the URL, drops its password and credential parameters', () => {
    const redactor = new Redactor();
    redactor.addUrlReferences(ref('DB'), {
      DB: 'postgres://app:s3cr3t-pw@db.internal:5432/app?sslpassword=k3y-pw',
    });
    expect(redactor.redact('postgres://db.internal:5432/app failed for s3cr3t-pw and k3y-pw')).toBe(
      'postgres://db.internal:5432/app failed for [redacted] and [redacted]',
    );
  });

  it('redacts every text of a result, children included', () => {
    const redactor = new Redactor();
    redactor.add('tok-123456');
    const result = redactor.redactResult({
      name: 'api',
      type: 'http',
      target: 'https://x/?t=tok-123456',
      status: 'degraded',
      reason: 'echo tok-123456',
      details: { nested: { list: ['tok-123456'] } },
      children: [{ name: 'c', type: 'component', target: 't', status: 'degraded', reason: 'tok-123456' }],
    });
    expect(JSON.stringify(result)).not.toContain('tok-123456');
  });

  it('display URLs carry no credentials', () => {
    expect(displayUrl(new URL('redis://user:pw@cache:6379/0#x'))).toBe('redis://cache:6379/0');
  });
});
