import { describe, expect, it } from 'vitest';
import { isLocalMode, parseEnv } from '../src/env.ts';

describe('environment', () => {
  it('defaults to local mode on port 3000 with PGlite and in-process coordination', () => {
    const env = parseEnv({});
    expect(isLocalMode(env)).toBe(true);
    expect(env.PORT).toBe(3000);
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.REDIS_URL).toBeUndefined();
    expect(env.RUNBOOK_DATA_DIR).toBe('./data');
  });

  it('accepts HTTP mode and Socket Mode credentials', () => {
    expect(isLocalMode(parseEnv({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 'abcdefgh12' }))).toBe(
      false,
    );
    expect(parseEnv({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1' }).SLACK_APP_TOKEN).toBe('xapp-1');
  });

  it('names the bad variable and what is expected', () => {
    expect(() => parseEnv({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => parseEnv({ SLACK_BOT_TOKEN: 'xoxp-user' })).toThrow(
      /SLACK_BOT_TOKEN: a bot token starting with xoxb-/,
    );
    expect(() => parseEnv({ SLACK_BOT_TOKEN: 'xoxb-1' })).toThrow(
      /SLACK_SIGNING_SECRET: required in HTTP mode/,
    );
    expect(() => parseEnv({ DATABASE_URL: 'mysql://x' })).toThrow(
      /DATABASE_URL: a postgres:\/\/ connection URL/,
    );
    expect(() => parseEnv({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL/);
  });
});
