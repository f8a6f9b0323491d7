import { verifySlackRequest } from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import { signSlackRequest } from '../../../src/local/slack/signing.ts';

// The worked example from Slack's "Verifying requests from Slack".
const SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const TIMESTAMP = 1531420618;
const BODY =
  'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V' +
  '&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=' +
  '&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN' +
  '&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';

describe('signSlackRequest', () => {
  it("matches Slack's published test vector", () => {
    expect(signSlackRequest(SECRET, TIMESTAMP, BODY)).toBe(
      'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
    );
    expect(signSlackRequest(SECRET, String(TIMESTAMP), BODY)).toBe(signSlackRequest(SECRET, TIMESTAMP, BODY));
  });

  it('is accepted by Bolt for a fresh timestamp', () => {
    const now = Math.floor(Date.now() / 1000);
    const signature = signSlackRequest('secret', now, 'a=b');
    expect(() =>
      verifySlackRequest({
        signingSecret: 'secret',
        body: 'a=b',
        headers: { 'x-slack-signature': signature, 'x-slack-request-timestamp': now },
      }),
    ).not.toThrow();
    expect(signSlackRequest('other', now, 'a=b')).not.toBe(signature);
  });
});
