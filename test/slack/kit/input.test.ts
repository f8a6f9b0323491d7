import { describe, expect, it } from 'vitest';
import { escapeMrkdwn } from '../../../src/slack/kit/escape.ts';
import { cleanText, incidentNumberValue, slackUserId } from '../../../src/slack/kit/input.ts';

describe('input from users', () => {
  it('strips C0 and C1 control characters but keeps newlines and tabs', () => {
    expect(cleanText('a\u0000b\u0007c\u001bd\u007fe\u0085f\u009fg')).toBe('abcdefg');
    expect(cleanText('line one\r\nline\ttwo\rthree')).toBe('line one\nline\ttwo\nthree');
    expect(cleanText('café ☕ 日本')).toBe('café ☕ 日本');
  });

  it('reads incident numbers of buttons within Postgres integers only', () => {
    expect(incidentNumberValue.safeParse('42').data).toBe(42);
    expect(incidentNumberValue.safeParse('2147483647').data).toBe(2_147_483_647);
    for (const bad of ['', 'abc', '0', '-1', '1.5', '1e3', ' 7', '2147483648', '12345678901'])
      expect(incidentNumberValue.safeParse(bad).success).toBe(false);
  });

  it('accepts Slack user ids only', () => {
    expect(slackUserId.safeParse('U0123ABCD').success).toBe(true);
    expect(slackUserId.safeParse('W_ALICE').success).toBe(true);
    for (const bad of ['', 'U', 'C0123', 'U1>|<!everyone', 'u123'])
      expect(slackUserId.safeParse(bad).success).toBe(false);
  });

  it('escapes mentions, special mentions and disguised links so they show as typed', () => {
    for (const [typed, shown] of [
      ['<!everyone>', '&lt;!everyone&gt;'],
      ['<!here> <!channel>', '&lt;!here&gt; &lt;!channel&gt;'],
      ['<@U123>', '&lt;@U123&gt;'],
      ['<https://evil.example|https://slack.com>', '&lt;https://evil.example|https://slack.com&gt;'],
      ['A & B', 'A &amp; B'],
    ] as const)
      expect(escapeMrkdwn(typed)).toBe(shown);
  });
});
