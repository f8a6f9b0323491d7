import {
  type ChatPostMessageResponse,
  type Logger,
  LogLevel,
  WebClient,
  WebClientEvent,
} from '@slack/web-api';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type SlackSimulator, startSlackSimulator } from '../../../src/local/slack/server.ts';

let sim: SlackSimulator;
let web: WebClient;
let now = Date.parse('2026-01-05T08:00:00Z');
const clock = { now: () => new Date(now) };
const silent: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  setLevel: () => {},
  getLevel: () => LogLevel.ERROR,
  setName: () => {},
};

function slackError(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'data' in error) {
    const data = error.data;
    if (typeof data === 'object' && data !== null && 'error' in data && typeof data.error === 'string') {
      return data.error;
    }
  }
  return undefined;
}

async function expectSlackError(promise: Promise<unknown>, code: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(slackError(error)).toBe(code);
}

beforeAll(async () => {
  sim = await startSlackSimulator({ clock });
  web = new WebClient(sim.botToken, {
    slackApiUrl: sim.apiUrl,
    logger: silent,
    retryConfig: { retries: 2, factor: 1, minTimeout: 10, maxTimeout: 10 },
  });
});

afterAll(async () => {
  await sim.close();
});

beforeEach(() => {
  sim.reset();
  now += 60_000;
});

describe('Slack simulator Web API (driven by @slack/web-api)', () => {
  it('answers auth.test with the bot identity', async () => {
    const auth = await web.auth.test();
    expect(auth).toMatchObject({ ok: true, user_id: 'U_RUNBOOK', bot_id: 'B_RUNBOOK', team_id: 'T_RUNBOOK' });
    expect(sim.apiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/$/);
  });

  it('round-trips postMessage, update, history and replies', async () => {
    const blocks = [
      { type: 'section', text: { type: 'mrkdwn', text: '*SEV1* database down' } },
      {
        type: 'actions',
        elements: [
          { type: 'button', text: { type: 'plain_text', text: 'Ack' }, action_id: 'ack', value: 'inc-1' },
        ],
      },
    ];
    const root: ChatPostMessageResponse = await web.chat.postMessage({
      channel: 'C_INCIDENTS',
      text: 'SEV1 database down',
      blocks,
    });
    expect(root.ok).toBe(true);
    expect(root.channel).toBe('C_INCIDENTS');
    expect(root.ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(root.message?.blocks?.[0]?.block_id).toBeTypeOf('string');
    const rootTs = root.ts ?? '';

    const reply = await web.chat.postMessage({ channel: 'C_INCIDENTS', thread_ts: rootTs, text: 'on it' });
    const broadcast = await web.chat.postMessage({
      channel: '#incidents',
      thread_ts: rootTs,
      text: 'mitigated',
      reply_broadcast: true,
    });
    await web.chat.postMessage({ channel: 'C_INCIDENTS', text: 'second top-level' });

    const updated = await web.chat.update({
      channel: 'C_INCIDENTS',
      ts: rootTs,
      text: 'SEV1 database down (ack)',
    });
    expect(updated.message?.text).toBe('SEV1 database down (ack)');
    expect(updated.message?.blocks).toHaveLength(2); // blocks kept when not given

    const history = await web.conversations.history({ channel: 'C_INCIDENTS' });
    const texts = history.messages?.map((m) => m.text);
    expect(texts).toEqual(['second top-level', 'mitigated', 'SEV1 database down (ack)']);
    const rootInHistory = history.messages?.[2];
    expect(rootInHistory).toMatchObject({ reply_count: 2, thread_ts: rootTs, edited: { user: 'U_RUNBOOK' } });

    const replies = await web.conversations.replies({ channel: 'C_INCIDENTS', ts: rootTs });
    expect(replies.messages?.map((m) => m.ts)).toEqual([rootTs, reply.ts, broadcast.ts]);
    expect(replies.messages?.[2]).toMatchObject({ subtype: 'thread_broadcast' });

    const page1 = await web.conversations.history({ channel: 'C_INCIDENTS', limit: 2 });
    expect(page1.has_more).toBe(true);
    const page2 = await web.conversations.history({
      channel: 'C_INCIDENTS',
      limit: 2,
      cursor: page1.response_metadata?.next_cursor ?? '',
    });
    expect(page2.messages?.map((m) => m.text)).toEqual(['SEV1 database down (ack)']);

    expect(sim.messagesIn('C_INCIDENTS')).toHaveLength(4);
    expect(sim.lastCall('chat.update')?.args).toMatchObject({ channel: 'C_INCIDENTS', ts: rootTs });
    expect(sim.lastCall('chat.postMessage')?.args.token).toBeUndefined();
    expect(sim.callsTo('chat.postMessage')[0]?.args.blocks).toEqual(blocks);
  });

  it('validates messages like Slack', async () => {
    await expectSlackError(web.chat.postMessage({ channel: 'C_NOPE', text: 'x' }), 'channel_not_found');
    await expectSlackError(web.chat.postMessage({ channel: 'C_INCIDENTS', text: '' }), 'no_text');
    await expectSlackError(
      web.chat.postMessage({ channel: 'C_INCIDENTS', text: 'x'.repeat(40_001) }),
      'msg_too_long',
    );
    const tooMany = Array.from({ length: 51 }, () => ({ type: 'divider' as const }));
    await expectSlackError(
      web.chat.postMessage({ channel: 'C_INCIDENTS', text: 'x', blocks: tooMany }),
      'invalid_blocks',
    );
    const call = sim.lastCall('chat.postMessage');
    expect(call?.response).toMatchObject({ ok: false, error: 'invalid_blocks' });
    expect(JSON.stringify(call?.response)).toContain('no more than 50 items allowed');
    await expectSlackError(web.apiCall('chat.launchRockets', {}), 'unknown_method');
  });

  it('posts ephemerals, permalinks, pins and reactions', async () => {
    const eph = await web.chat.postEphemeral({ channel: 'C_INCIDENTS', user: 'U_BOB', text: 'only you' });
    expect(eph.message_ts).toMatch(/^\d+\.\d{6}$/);
    expect(sim.ephemeralsFor('U_BOB')[0]?.text).toBe('only you');
    const posted = await web.chat.postMessage({ channel: 'C_INCIDENTS', text: 'pin me' });
    const ts = posted.ts ?? '';
    const link = await web.chat.getPermalink({ channel: 'C_INCIDENTS', message_ts: ts });
    expect(link.permalink).toBe(`https://runbook-sim.slack.com/archives/C_INCIDENTS/p${ts.replace('.', '')}`);
    await web.pins.add({ channel: 'C_INCIDENTS', timestamp: ts });
    await expectSlackError(web.pins.add({ channel: 'C_INCIDENTS', timestamp: ts }), 'already_pinned');
    await web.reactions.add({ channel: 'C_INCIDENTS', timestamp: ts, name: 'eyes' });
    await expectSlackError(
      web.reactions.add({ channel: 'C_INCIDENTS', timestamp: ts, name: 'eyes' }),
      'already_reacted',
    );
    const history = await web.conversations.history({ channel: 'C_INCIDENTS' });
    expect(history.messages?.[0]).toMatchObject({
      pinned_to: ['C_INCIDENTS'],
      reactions: [{ name: 'eyes', count: 1, users: ['U_RUNBOOK'] }],
    });
  });

  it('enforces conversations.create name rules and name_taken', async () => {
    const created = await web.conversations.create({ name: 'inc-2026-01-05-db_down' });
    expect(created.channel?.id).toMatch(/^C[A-Z0-9]{10}$/);
    expect(created.channel?.name).toBe('inc-2026-01-05-db_down');
    await expectSlackError(web.conversations.create({ name: 'inc-2026-01-05-db_down' }), 'name_taken');
    await expectSlackError(web.conversations.create({ name: 'incidents' }), 'name_taken');
    await expectSlackError(web.conversations.create({ name: 'Inc-Upper' }), 'invalid_name_specials');
    await expectSlackError(web.conversations.create({ name: 'has space' }), 'invalid_name_specials');
    await expectSlackError(web.conversations.create({ name: 'x'.repeat(81) }), 'invalid_name_maxlength');
    await expectSlackError(web.conversations.create({ name: '' }), 'invalid_name_required');

    const channel = created.channel?.id ?? '';
    await web.conversations.invite({ channel, users: 'U_ALICE,U_BOB' });
    await expectSlackError(web.conversations.invite({ channel, users: 'U_ALICE' }), 'already_in_channel');
    await expectSlackError(web.conversations.invite({ channel, users: 'U_GHOST' }), 'user_not_found');
    const topic = await web.conversations.setTopic({ channel, topic: 'SEV1: db down' });
    expect(topic.channel?.topic?.value).toBe('SEV1: db down');
    const info = await web.conversations.info({ channel, include_num_members: true });
    expect(info.channel).toMatchObject({ num_members: 3, is_archived: false });
    await web.conversations.archive({ channel });
    await expectSlackError(web.chat.postMessage({ channel, text: 'late' }), 'is_archived');
    await expectSlackError(web.conversations.archive({ channel }), 'already_archived');
  });

  it('answers users.info and usergroups.users.list', async () => {
    const alice = await web.users.info({ user: 'U_ALICE' });
    expect(alice.user).toMatchObject({
      id: 'U_ALICE',
      tz: 'Europe/London',
      profile: { display_name: 'alice' },
    });
    await expectSlackError(web.users.info({ user: 'U_GHOST' }), 'user_not_found');
    const oncall = await web.usergroups.users.list({ usergroup: 'S_ONCALL' });
    expect(oncall.users).toEqual(['U_ALICE', 'U_BOB']);
    await expectSlackError(web.usergroups.users.list({ usergroup: 'S_NOPE' }), 'no_such_subteam');
  });

  it('answers not_authed / invalid_auth like Slack (HTTP 200, ok:false)', async () => {
    const noToken = await fetch(`${sim.apiUrl}auth.test`, { method: 'POST' });
    expect(noToken.status).toBe(200);
    expect(await noToken.json()).toEqual({ ok: false, error: 'not_authed' });
    const wrong = new WebClient('xoxb-wrong', {
      slackApiUrl: sim.apiUrl,
      logger: silent,
      retryConfig: { retries: 0 },
    });
    await expectSlackError(wrong.auth.test(), 'invalid_auth');
    // JSON bodies must carry the token in the Authorization header.
    const jsonBody = await fetch(`${sim.apiUrl}chat.postMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${sim.botToken}` },
      body: JSON.stringify({ channel: 'C_INCIDENTS', text: 'json!' }),
    });
    expect(await jsonBody.json()).toMatchObject({ ok: true, channel: 'C_INCIDENTS' });
    const bad = await fetch(`${sim.apiUrl}chat.postMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${sim.botToken}` },
      body: '{not json',
    });
    expect(await bad.json()).toEqual({ ok: false, error: 'invalid_json' });
    const wrongType = await fetch(`${sim.apiUrl}chat.postMessage`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Bearer ${sim.botToken}`,
      },
      body: 'channel=C_INCIDENTS&text=x&blocks=%7Bnope',
    });
    expect(await wrongType.json()).toEqual({ ok: false, error: 'invalid_blocks_format' });
  });

  it('rate-limits with HTTP 429 + Retry-After, and the WebClient retries', async () => {
    sim.injectFault({ method: 'chat.postMessage', retryAfterSeconds: 1, times: 1 });
    let rateLimited = 0;
    const listener = () => {
      rateLimited += 1;
    };
    web.on(WebClientEvent.RATE_LIMITED, listener);
    const started = Date.now();
    const result = await web.chat.postMessage({ channel: 'C_INCIDENTS', text: 'after the limit' });
    web.off(WebClientEvent.RATE_LIMITED, listener);
    expect(result.ok).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(rateLimited).toBe(1);
    const calls = sim.callsTo('chat.postMessage');
    expect(calls.map((c) => c.httpStatus)).toEqual([429, 200]);
    expect(calls[0]).toMatchObject({ fault: true, response: { ok: false, error: 'ratelimited' } });

    sim.injectFault({ method: 'conversations.create', error: 'restricted_action', times: 2 });
    await expectSlackError(web.conversations.create({ name: 'a' }), 'restricted_action');
    await expectSlackError(web.conversations.create({ name: 'a' }), 'restricted_action');
    expect((await web.conversations.create({ name: 'a' })).ok).toBe(true);
  });

  it('injects faults on matching calls only, and late answers (carried out at once, or a hang then an error)', async () => {
    sim.injectFault({ method: 'chat.postMessage', args: { channel: '#deployments' }, error: 'is_archived' });
    expect((await web.chat.postMessage({ channel: 'C_INCIDENTS', text: 'not this one' })).ok).toBe(true);
    await expectSlackError(
      web.chat.postMessage({ channel: '#deployments', text: 'this one' }),
      'is_archived',
    );

    sim.injectFault({ method: 'conversations.create', delayMs: 300, match: (a) => a.name === 'slow' });
    const since = sim.calls.length;
    const created = web.conversations.create({ name: 'slow' });
    const arrived = await sim.waitForCall('conversations.create', { since });
    expect(arrived).toMatchObject({ fault: true, response: { ok: true } });
    // Slack did it before it answered: the channel exists while the answer is still on its way.
    expect(sim.workspace.channelByName('slow')).toBeDefined();
    expect((await created).channel?.name).toBe('slow');

    sim.injectFault({ method: 'pins.add', delayMs: 300, error: 'fatal_error' });
    const message = await web.chat.postMessage({ channel: 'C_INCIDENTS', text: 'pin me' });
    await expectSlackError(
      web.pins.add({ channel: 'C_INCIDENTS', timestamp: message.ts ?? '' }),
      'fatal_error',
    );
    expect(sim.messagesIn('C_INCIDENTS').find((m) => m.ts === message.ts)?.pinned).toBe(false);
  });

  it("lists a user's conversations (users.conversations) by type, paged, without archived ones on request", async () => {
    const made = await web.conversations.create({ name: 'inc-7-made-by-bot' });
    await web.conversations.archive({ channel: made.channel?.id ?? '' });
    sim.workspace.addChannel({
      id: 'C_PEOPLE',
      name: 'people-only',
      members: ['U_ALICE'],
      creator: 'U_ALICE',
    });
    const all = await web.users.conversations({ types: 'public_channel,private_channel', limit: 2 });
    expect(all.channels).toHaveLength(2);
    const cursor = all.response_metadata?.next_cursor ?? '';
    expect(cursor).not.toBe('');
    const rest = await web.users.conversations({ types: 'public_channel,private_channel', limit: 2, cursor });
    const names = [...(all.channels ?? []), ...(rest.channels ?? [])].map((c) => c.name);
    expect(names.sort()).toEqual(['deployments', 'general', 'inc-7-made-by-bot', 'incidents']);
    const open = await web.users.conversations({ exclude_archived: true });
    expect(open.channels?.map((c) => c.name)).not.toContain('inc-7-made-by-bot');
    expect(open.channels?.find((c) => c.name === 'incidents')).toMatchObject({
      id: 'C_INCIDENTS',
      is_member: true,
      is_archived: false,
      topic: { value: 'Incident coordination' },
    });
    const alice = await web.users.conversations({ user: 'U_ALICE' });
    expect(alice.channels?.map((c) => c.name)).toContain('people-only');
    await expectSlackError(web.users.conversations({ types: 'nope' }), 'invalid_types');
  });

  it("answers 429 + Retry-After once a method's tier rate is exceeded (chat.update: Tier 3, 50 a minute)", async () => {
    const posted = await web.chat.postMessage({ channel: 'C_INCIDENTS', text: 'v0' });
    const ts = String(posted.ts);
    const update = (text: string) =>
      fetch(`${sim.apiUrl}chat.update`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${sim.botToken}` },
        body: JSON.stringify({ channel: 'C_INCIDENTS', ts, text }),
      });
    for (let i = 1; i <= 50; i++) expect((await update(`v${i}`)).status).toBe(200);
    const limited = await update('v51');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    expect(await limited.json()).toEqual({ ok: false, error: 'ratelimited' });
    expect(sim.workspace.findMessage('C_INCIDENTS', ts)?.text).toBe('v50'); // the refused call changed nothing
    // Per method: another method still answers, and chat.postMessage ("special" tier) is not limited here.
    expect((await web.conversations.info({ channel: 'C_INCIDENTS' })).ok).toBe(true);
    for (let i = 0; i < 60; i++) await web.chat.postMessage({ channel: 'C_GENERAL', text: `m${i}` });
  });

  it('tier windows and limits can be set, or turned off', async () => {
    const quick = await startSlackSimulator({ rateLimits: { windowMs: 1_000, limits: { 'pins.list': 1 } } });
    const off = await startSlackSimulator({ rateLimits: false });
    try {
      const call = (target: SlackSimulator, method: string) =>
        fetch(`${target.apiUrl}${method}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${target.botToken}` },
          body: JSON.stringify({ channel: 'C_INCIDENTS' }),
        });
      expect((await call(quick, 'pins.list')).status).toBe(200);
      const limited = await call(quick, 'pins.list');
      expect(limited.status).toBe(429);
      expect(limited.headers.get('retry-after')).toBe('1');
      for (let i = 0; i < 30; i++) expect((await call(off, 'pins.list')).status).toBe(200);
    } finally {
      await quick.close();
      await off.close();
    }
  });

  it('opens views only with fresh trigger ids and validates them', async () => {
    const view = {
      type: 'modal' as const,
      callback_id: 'declare',
      title: { type: 'plain_text' as const, text: 'Declare incident' },
      submit: { type: 'plain_text' as const, text: 'Declare' },
      private_metadata: 'C_INCIDENTS',
      blocks: [
        {
          type: 'input',
          block_id: 'title',
          label: { type: 'plain_text', text: 'Title' },
          element: { type: 'plain_text_input', action_id: 'value' },
        },
      ],
    };
    const trigger = sim.mintTriggerId({ userId: 'U_ALICE' });
    const opened = await web.views.open({ trigger_id: trigger, view });
    expect(opened.view).toMatchObject({
      callback_id: 'declare',
      private_metadata: 'C_INCIDENTS',
      root_view_id: opened.view?.id,
    });
    expect(opened.view?.id).toMatch(/^V[A-Z0-9]{10}$/);
    expect(opened.view?.hash).toBeTypeOf('string');
    await expectSlackError(web.views.open({ trigger_id: trigger, view }), 'exchanged_trigger_id');
    await expectSlackError(web.views.open({ trigger_id: '123.456.abc', view }), 'invalid_trigger_id');

    const stale = sim.mintTriggerId({ userId: 'U_ALICE' });
    now += 3001;
    await expectSlackError(web.views.open({ trigger_id: stale, view }), 'expired_trigger_id');

    const longTitle = { ...view, title: { type: 'plain_text' as const, text: 'x'.repeat(25) } };
    await expectSlackError(
      web.views.open({ trigger_id: sim.mintTriggerId(), view: longTitle }),
      'invalid_arguments',
    );
    expect(JSON.stringify(sim.lastCall('views.open')?.response)).toContain('/view/title/text');
    const bigMeta = { ...view, private_metadata: 'x'.repeat(3001) };
    await expectSlackError(
      web.views.open({ trigger_id: sim.mintTriggerId(), view: bigMeta }),
      'invalid_arguments',
    );

    const id = opened.view?.id ?? '';
    const updated = await web.views.update({ view_id: id, hash: opened.view?.hash ?? '', view });
    expect(updated.view?.hash).not.toBe(opened.view?.hash);
    await expectSlackError(
      web.views.update({ view_id: id, hash: opened.view?.hash ?? '', view }),
      'hash_conflict',
    );
    const pushed = await web.views.push({
      trigger_id: sim.mintTriggerId({ userId: 'U_ALICE', viewId: id }),
      view,
    });
    expect(pushed.view).toMatchObject({ root_view_id: id, previous_view_id: id });
  });

  it('records response_url posts and applies them', async () => {
    const url = sim.responseUrl({ channelId: 'C_INCIDENTS', userId: 'U_ALICE' });
    expect(url).toMatch(new RegExp(`^${sim.baseUrl}/response/`));
    const post = (body: unknown) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });

    expect((await post({ text: 'just for you' })).status).toBe(200);
    expect((await post({ text: 'for everyone', response_type: 'in_channel' })).status).toBe(200);
    expect((await post({})).status).toBe(400);
    expect(sim.responses.map((r) => r.outcome)).toEqual(['ephemeral', 'in_channel', 'rejected']);
    expect(sim.ephemeralsFor('U_ALICE').map((e) => e.text)).toEqual(['just for you']);
    expect(sim.messagesIn('C_INCIDENTS').map((m) => m.text)).toEqual(['for everyone']);
    const unknown = await fetch(`${sim.baseUrl}/response/nope`, { method: 'POST', body: '{}' });
    expect(unknown.status).toBe(404);

    // replace_original on the message a button was clicked in
    const posted = await web.chat.postMessage({ channel: 'C_INCIDENTS', text: 'Approve deploy?' });
    const clickUrl = sim.responseUrl({ channelId: 'C_INCIDENTS', userId: 'U_BOB', messageTs: posted.ts });
    await fetch(clickUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ replace_original: true, text: 'Approved by @bob' }),
    });
    expect(sim.workspace.findMessage('C_INCIDENTS', posted.ts ?? '')?.text).toBe('Approved by @bob');
  });

  it('serves the /_sim control endpoints', async () => {
    await web.chat.postMessage({ channel: 'C_DEPLOYMENTS', text: 'deploying' });
    const calls = await (await fetch(`${sim.baseUrl}/_sim/calls?since=0`)).json();
    expect(calls).toMatchObject({ total: 1, items: [{ index: 0, method: 'chat.postMessage' }] });
    const none = await (await fetch(`${sim.baseUrl}/_sim/calls?since=1`)).json();
    expect(none).toMatchObject({ total: 1, items: [] });
    const trigger = (await (
      await fetch(`${sim.baseUrl}/_sim/trigger`, { method: 'POST', body: '{}' })
    ).json()) as {
      trigger_id: string;
    };
    expect(trigger.trigger_id).toMatch(/^\d+\.\d+\.[0-9a-f]{32}$/);
    const responses = await (await fetch(`${sim.baseUrl}/_sim/responses?since=0`)).json();
    expect(responses).toEqual({ total: 0, items: [] });
  });
});

describe('Slack simulator robustness', () => {
  it('never crashes on bad input: every method answers JSON with ok', async () => {
    const { METHODS } = await import('../../../src/local/slack/web-api.ts');
    const garbage: Array<Record<string, string>> = [
      {},
      {
        channel: '',
        ts: '',
        text: '',
        users: ',,,',
        name: '',
        limit: 'abc',
        view: '[1,2]',
        blocks: '{"a":1}',
      },
      {
        channel: 'C_INCIDENTS',
        ts: '1.1',
        thread_ts: 'x',
        view: '{"type":"modal"}',
        trigger_id: 'nope',
        user: 'U_X',
      },
      {
        channel: 'U_ALICE',
        text: 'hi',
        blocks: '[{"type":"section"}]',
        attachments: 'x',
        cursor: '!!!',
        timestamp: '',
      },
      {
        channel: '#incidents',
        usergroup: 'S_ONCALL',
        view_id: 'V1',
        hash: 'h',
        view: 'not json',
        name: 'a b',
      },
    ];
    for (const method of Object.keys(METHODS)) {
      for (const args of garbage) {
        const response = await fetch(`${sim.apiUrl}${method}`, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            authorization: `Bearer ${sim.botToken}`,
          },
          body: new URLSearchParams(args).toString(),
        });
        expect(response.status, `${method} ${JSON.stringify(args)}`).toBe(200);
        const body = (await response.json()) as { ok?: unknown; error?: unknown };
        expect(typeof body.ok, method).toBe('boolean');
        expect(body.error, `${method} ${JSON.stringify(args)}`).not.toBe('fatal_error');
      }
      const weird = await fetch(`${sim.apiUrl}${method}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${sim.botToken}` },
        body: JSON.stringify({ channel: { nested: true }, text: ['x'], limit: -5, blocks: 7, view: null }),
      });
      const weirdBody = (await weird.json()) as { error?: unknown };
      expect(weirdBody.error, method).not.toBe('fatal_error');
    }
    const odd = await fetch(`${sim.baseUrl}/api/%E0%A4%A`, { method: 'POST' });
    expect(odd.status).toBe(200);
  });
});
