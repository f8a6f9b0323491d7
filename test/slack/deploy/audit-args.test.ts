import { describe, expect, it } from 'vitest';
import { YEAR_MS } from '../../../src/config/duration.ts';
import { parseAuditArgs } from '../../../src/slack/deploy/audit-args.ts';
import { UserInputError } from '../../../src/slack/kit/errors.ts';

describe('parseAuditArgs', () => {
  it('reads the list and export forms with their defaults', () => {
    expect(parseAuditArgs('')).toEqual({
      kind: 'list',
      service: undefined,
      sinceText: '7d',
      sinceMs: 7 * 86_400_000,
      page: 1,
    });
    expect(parseAuditArgs('API --since 12h --page 3')).toEqual({
      kind: 'list',
      service: 'api',
      sinceText: '12h',
      sinceMs: 12 * 3_600_000,
      page: 3,
    });
    expect(parseAuditArgs('export --since=1y barq-api')).toEqual({
      kind: 'export',
      service: 'barq-api',
      sinceText: '1y',
      sinceMs: YEAR_MS,
      page: 1,
    });
    expect(parseAuditArgs('export')).toMatchObject({ kind: 'export', sinceText: '30d' });
  });

  it.each([
    ['--since 7x', /`--since 7x` is not a duration/],
    ['--since', /needs a duration/],
    ['--since 0d', /longer than nothing/],
    ['--since 500y', /longer than 100y/],
    ['--page 0', /not a page number/],
    ['--page two', /not a page number/],
    ['--until 2d', /not an option/],
    ['export --page 2', /not an option of `\/deploy audit export`/],
    ['a b', /at most one service/],
    ['<!here>', /`&lt;!here&gt;` is not a service name/],
  ])('refuses %j clearly', (args, message) => {
    const error = (() => {
      try {
        parseAuditArgs(args);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(UserInputError);
    expect((error as UserInputError).message).toMatch(message);
  });
});
