/** Severity names in lists elsewhere in the config must be configured severities (a typo exempts nothing). */
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.ts';

describe('severity lists', () => {
  it('refuses a severity that is not configured, at its path', () => {
    expect(() => parseConfigText('deploy: { incidentExemption: [P0, p1] }\n')).toThrow(
      /deploy\.incidentExemption\.1.*no severity p1/,
    );
    expect(() => parseConfigText('stats: { downtimeSeverities: [SEV1] }\n')).toThrow(
      /stats\.downtimeSeverities\.0.*no severity SEV1/,
    );
    expect(parseConfigText('deploy: { incidentExemption: [P0] }\n').deploy.incidentExemption).toEqual(['P0']);
  });
});
