import { describe, expect, it } from 'vitest';
import { resolveSecrets, SecretResolutionError } from '../../src/config/secrets.ts';

describe('secret references', () => {
  it('resolves ${env:NAME} at use time', () => {
    expect(resolveSecrets('Bearer ${env:TOKEN}', { TOKEN: 's3cret' })).toBe('Bearer s3cret');
  });
  it('names the missing variable', () => {
    expect(() => resolveSecrets('${env:NOPE}', {})).toThrow(SecretResolutionError);
    expect(() => resolveSecrets('${env:NOPE}', {})).toThrow(/NOPE/);
  });
});
