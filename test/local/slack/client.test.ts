import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseQuery } from 'node:querystring';
import { verifySlackRequest } from '@slack/bolt';
import { type Logger, LogLevel, WebClient } from '@slack/web-api';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SlackRequestClient } from '../../../src/local/slack/client.ts';
import { type SlackSimulator, startSlackSimulator } from '../../../src/local/slack/server.ts';

const SIGNING_SECRET = 'sim-signing-secret';

interface Captured {
  headers: IncomingHttpHeaders;
  raw: string;
  verified: boolean;
  verifyError?: string;
  /** Parsed like Bolt's HTTPReceiver: form → fields (or JSON `payload`), JSON → object. */
  body: Record<string, unknown>;
}

const silent: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  setLevel: () => {},
  getLevel: () => LogLevel.ERROR,
  setName: () => {},
};

let sim: SlackSimulator;
let web: WebClient;
let appServer: Server;
let botUrl: string;
let client: SlackRequestClient;
const captured: Captured[] = [];
/** What the fake app answers next. */
let nextAnswer: { status: number; body?: unknown } = { status: 200 };

function lastCaptured(): Captured {
  const last = captured.at(-1);
  if (!last) throw new Error('the app received nothing');
  return last;
}

beforeAll(async () => {
  sim = await startSlackSimulator();
  web = new WebClient(sim.botToken, { slackApiUrl: sim.apiUrl, logger: silent });
  appServer = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const entry: Captured = { headers: req.headers, raw, verified: false, body: {} };
      try {
        // Exactly Bolt's check (HTTPReceiver → parseAndVerifyHTTPRequest → verifySlackRequest).
        verifySlackRequest({
          signingSecret: SIGNING_SECRET,
          body: raw,
          headers: {
            'x-slack-signature': String(req.headers['x-slack-signature']),
            'x-slack-request-timestamp': Number(req.headers['x-slack-request-timestamp']),
          },
        });
        entry.verified = true;
      } catch (error) {
        entry.verifyError = error instanceof Error ? error.message : String(error);
      }
      // Bolt's parseHTTPRequestBody: only the exact content type counts as a form.
      if (req.headers['content-type'] === 'application/x-www-form-urlencoded') {
        const fields = parseQuery(raw);
        entry.body = typeof fields.payload === 'string' ? JSON.parse(fields.payload) : { ...fields };
      } else {
        entry.body = JSON.parse(raw);
      }
      captured.push(entry);
      if (!entry.verified) {
        res.writeHead(401);
        res.end();
        return;
      }
      const answer = nextAnswer;
      nextAnswer = { status: 200 };
      if (answer.body === undefined) {
        res.writeHead(answer.status);
        res.end();
      } else {
        res.writeHead(answer.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer.body));
      }
    });
  });
  appServer.listen(0, '127.0.0.1');
  await once(appServer, 'listening');
  botUrl = `http://127.0.0.1:${(appServer.address() as AddressInfo).port}/slack/events`;
  client = new SlackRequestClient({ botUrl, signingSecret: SIGNING_SECRET, simulator: sim });
});

afterAll(async () => {
  client.close();
  appServer.closeAllConnections();
  appServer.close();
  await sim.close();
});

beforeEach(() => {
  sim.reset();
  captured.length = 0;
});

describe('SlackRequestClient', () => {
  it('sends slash commands exactly like Slack', async () => {
    nextAnswer = { status: 200, body: { response_type: 'ephemeral', text: 'Usage: /incident declare' } };
    const result = await client.slashCommand({
      command: '/incident',
      text: 'help me & you',
      userId: 'U_BOB',
    });
    expect(result.status).toBe(200);
    expect(result.json).toEqual({ response_type: 'ephemeral', text: 'Usage: /incident declare' });
    expect(result.withinAckDeadline).toBe(true);

    const got = lastCaptured();
    expect(got.verified).toBe(true);
    expect(got.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(got.headers['x-slack-request-timestamp']).toMatch(/^\d{10}$/);
    expect(got.headers['x-slack-signature']).toMatch(/^v0=[0-9a-f]{64}$/);
    expect(got.headers['x-slack-retry-num']).toBeUndefined();
    expect(Object.keys(got.body)).toEqual([
      'token',
      'team_id',
      'team_domain',
      'channel_id',
      'channel_name',
      'user_id',
      'user_name',
      'command',
      'text',
      'api_app_id',
      'is_enterprise_install',
      'response_url',
      'trigger_id',
    ]);
    expect(got.body).toMatchObject({
      team_id: 'T_RUNBOOK',
      team_domain: 'runbook-sim',
      channel_id: 'C_INCIDENTS',
      channel_name: 'incidents',
      user_id: 'U_BOB',
      user_name: 'bob',
      command: '/incident',
      text: 'help me & you',
      api_app_id: 'A_RUNBOOK',
      is_enterprise_install: 'false',
      response_url: result.responseUrl,
      trigger_id: result.triggerId,
    });
    expect(result.responseUrl.startsWith(`${sim.baseUrl}/response/`)).toBe(true);

    // The minted trigger_id really opens a modal (within 3 s).
    const opened = await web.views.open({
      trigger_id: result.triggerId,
      view: { type: 'modal', title: { type: 'plain_text', text: 'Hi' }, blocks: [] },
    });
    expect(opened.ok).toBe(true);
    expect(sim.views[0]?.userId).toBe('U_BOB');
  });

  it('sends retries and bad signatures for negative tests', async () => {
    await client.slashCommand({ command: '/incident', text: 'status', retryNum: 1 });
    expect(lastCaptured().headers['x-slack-retry-num']).toBe('1');
    expect(lastCaptured().headers['x-slack-retry-reason']).toBe('http_timeout');

    const wrong = await client.slashCommand({ command: '/incident', signatureOverride: 'v0=deadbeef' });
    expect(wrong.status).toBe(401);
    expect(lastCaptured().verifyError).toContain('signature mismatch');

    const stale = await client.slashCommand({
      command: '/incident',
      timestamp: Math.floor(Date.now() / 1000) - 600,
    });
    expect(stale.status).toBe(401);
    expect(lastCaptured().verifyError).toContain('stale');

    const tampered = await client.slashCommand({ command: '/incident', tamperedBody: 'token=x&text=evil' });
    expect(tampered.status).toBe(401);

    const otherSecret = await client.slashCommand({ command: '/incident', signingSecretOverride: 'nope' });
    expect(otherSecret.status).toBe(401);
  });

  it('builds block_actions payloads from messages the bot posted', async () => {
    const posted = await web.chat.postMessage({
      channel: 'C_DEPLOYMENTS',
      text: 'Deploy api v42 to prod?',
      blocks: [
        { type: 'section', block_id: 'summary', text: { type: 'mrkdwn', text: 'Deploy *api* v42 to prod?' } },
        {
          type: 'actions',
          block_id: 'decision',
          elements: [
            {
              type: 'button',
              action_id: 'deploy_approve',
              text: { type: 'plain_text', text: 'Approve' },
              style: 'primary',
              value: 'deploy-42',
            },
            {
              type: 'button',
              action_id: 'deploy_reject',
              text: { type: 'plain_text', text: 'Reject' },
              value: 'deploy-42',
            },
            {
              type: 'static_select',
              action_id: 'deploy_region',
              placeholder: { type: 'plain_text', text: 'Region' },
              options: [
                { text: { type: 'plain_text', text: 'EU' }, value: 'eu' },
                { text: { type: 'plain_text', text: 'US' }, value: 'us' },
              ],
            },
            {
              type: 'users_select',
              action_id: 'deploy_reviewer',
              placeholder: { type: 'plain_text', text: 'Who' },
            },
          ],
        },
      ],
    });

    const click = await client.clickButton({
      message: posted,
      actionId: 'deploy_approve',
      userId: 'U_CAROL',
    });
    expect(click.status).toBe(200);
    const got = lastCaptured();
    expect(got.verified).toBe(true);
    expect(got.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(got.raw.startsWith('payload=')).toBe(true);
    expect(got.body).toMatchObject({
      type: 'block_actions',
      user: { id: 'U_CAROL', username: 'carol', team_id: 'T_RUNBOOK' },
      api_app_id: 'A_RUNBOOK',
      token: 'sim-verification-token',
      container: { type: 'message', message_ts: posted.ts, channel_id: 'C_DEPLOYMENTS', is_ephemeral: false },
      trigger_id: click.triggerId,
      team: { id: 'T_RUNBOOK', domain: 'runbook-sim' },
      channel: { id: 'C_DEPLOYMENTS', name: 'deployments' },
      message: { ts: posted.ts, text: 'Deploy api v42 to prod?', bot_id: 'B_RUNBOOK' },
      response_url: click.responseUrl,
      actions: [
        {
          type: 'button',
          action_id: 'deploy_approve',
          block_id: 'decision',
          value: 'deploy-42',
          style: 'primary',
          text: { type: 'plain_text', text: 'Approve' },
        },
      ],
    });
    const action = (got.body.actions as Array<Record<string, unknown>>)[0];
    expect(action?.action_ts).toMatch(/^\d+\.\d{6}$/);

    await client.clickButton({
      channelId: 'C_DEPLOYMENTS',
      ts: posted.ts,
      actionId: 'deploy_region',
      selected: 'eu',
    });
    expect(lastCaptured().body.actions).toMatchObject([
      {
        type: 'static_select',
        action_id: 'deploy_region',
        selected_option: { value: 'eu', text: { text: 'EU' } },
      },
    ]);
    expect(lastCaptured().body.state).toMatchObject({
      values: { decision: { deploy_region: { type: 'static_select', selected_option: { value: 'eu' } } } },
    });
    await expect(client.clickButton({ actionId: 'deploy_region', selected: 'mars' })).rejects.toThrow(
      /not an option/,
    );

    await client.clickButton({ actionId: 'deploy_reviewer', selected: 'U_DAN' });
    expect(lastCaptured().body.actions).toMatchObject([{ type: 'users_select', selected_user: 'U_DAN' }]);

    // By value, newest message with that element.
    await client.clickButton({ value: 'deploy-42' });
    expect(lastCaptured().body.actions).toMatchObject([{ action_id: 'deploy_approve' }]);

    await expect(client.clickButton({ message: posted, actionId: 'nope' })).rejects.toThrow(
      /has no element with action_id "nope".*deploy_approve/,
    );
    await expect(client.clickButton({ actionId: 'never_posted' })).rejects.toThrow(/No message/);
  });

  it('clicks buttons in ephemeral messages (response_url and chat.postEphemeral)', async () => {
    const button = {
      type: 'actions',
      elements: [
        { type: 'button', action_id: 'confirm_rollback', text: { type: 'plain_text', text: 'Roll back' } },
      ],
    };
    const command = await client.slashCommand({
      command: '/deploy',
      text: 'rollback api',
      userId: 'U_ALICE',
    });
    await fetch(command.responseUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'Sure?', blocks: [button] }),
    });
    const click = await client.clickButton({ actionId: 'confirm_rollback', userId: 'U_ALICE' });
    expect(lastCaptured().body).toMatchObject({
      type: 'block_actions',
      container: { type: 'message', is_ephemeral: true, channel_id: 'C_INCIDENTS' },
    });
    expect(lastCaptured().body.message).toBeUndefined();
    // The click's response_url can replace the ephemeral message.
    await fetch(click.responseUrl ?? '', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ replace_original: true, text: 'Rolled back.' }),
    });
    expect(sim.ephemeralsFor('U_ALICE').map((e) => e.text)).toEqual(['Rolled back.']);

    await web.chat.postEphemeral({
      channel: 'C_INCIDENTS',
      user: 'U_BOB',
      text: 'Really?',
      blocks: [button],
    });
    await expect(client.clickButton({ actionId: 'confirm_rollback', userId: 'U_CAROL' })).rejects.toThrow(
      /No message/,
    );
    await client.clickButton({ actionId: 'confirm_rollback', userId: 'U_BOB' });
    expect(lastCaptured().body).toMatchObject({ user: { id: 'U_BOB' }, container: { is_ephemeral: true } });
  });

  it('builds view_submission payloads from views the bot opened', async () => {
    const command = await client.slashCommand({ command: '/incident', text: 'declare', userId: 'U_ALICE' });
    const opened = await web.views.open({
      trigger_id: command.triggerId,
      view: {
        type: 'modal',
        callback_id: 'incident_declare',
        private_metadata: JSON.stringify({ channel: 'C_INCIDENTS' }),
        title: { type: 'plain_text', text: 'Declare incident' },
        submit: { type: 'plain_text', text: 'Declare' },
        blocks: [
          {
            type: 'input',
            block_id: 'title',
            label: { type: 'plain_text', text: 'Title' },
            element: { type: 'plain_text_input', action_id: 'value' },
          },
          {
            type: 'input',
            block_id: 'severity',
            label: { type: 'plain_text', text: 'Severity' },
            element: {
              type: 'static_select',
              action_id: 'value',
              initial_option: { text: { type: 'plain_text', text: 'SEV3' }, value: 'sev3' },
              options: ['sev1', 'sev2', 'sev3'].map((v) => ({
                text: { type: 'plain_text', text: v.toUpperCase() },
                value: v,
              })),
            },
          },
          {
            type: 'input',
            block_id: 'commander',
            label: { type: 'plain_text', text: 'Commander' },
            element: { type: 'users_select', action_id: 'value' },
          },
          {
            type: 'input',
            block_id: 'services',
            optional: true,
            label: { type: 'plain_text', text: 'Services' },
            element: {
              type: 'checkboxes',
              action_id: 'value',
              options: ['api', 'db'].map((v) => ({ text: { type: 'plain_text', text: v }, value: v })),
            },
          },
          {
            type: 'input',
            block_id: 'notify',
            optional: true,
            label: { type: 'plain_text', text: 'Notify' },
            element: {
              type: 'radio_buttons',
              action_id: 'value',
              options: ['yes', 'no'].map((v) => ({ text: { type: 'plain_text', text: v }, value: v })),
            },
          },
          {
            type: 'input',
            block_id: 'teams',
            optional: true,
            label: { type: 'plain_text', text: 'Teams' },
            element: {
              type: 'multi_static_select',
              action_id: 'value',
              options: ['sre', 'web'].map((v) => ({ text: { type: 'plain_text', text: v }, value: v })),
            },
          },
        ],
      },
    });
    const viewId = opened.view?.id ?? '';

    await expect(client.submitView({ viewId, values: { title: { value: 'DB down' } } })).rejects.toThrow(
      /Required input "commander"/,
    );

    nextAnswer = {
      status: 200,
      body: { response_action: 'errors', errors: { title: 'Title is too short' } },
    };
    const rejected = await client.submitView({
      callbackId: 'incident_declare',
      values: { title: { value: 'DB' }, commander: { value: 'U_BOB' } },
    });
    expect(rejected.errors).toEqual({ title: 'Title is too short' });
    expect(rejected.outcome?.outcome).toBe('errors');

    const submitted = await client.submitView({
      viewId,
      values: {
        title: { value: 'DB down' },
        severity: { value: 'sev1' },
        commander: { value: 'U_BOB' },
        services: { value: ['api', 'db'] },
        notify: { value: 'yes' },
        teams: { value: ['sre'] },
      },
    });
    expect(submitted.status).toBe(200);
    expect(submitted.outcome?.outcome).toBe('closed');
    const got = lastCaptured();
    expect(got.verified).toBe(true);
    expect(got.body).toMatchObject({
      type: 'view_submission',
      team: { id: 'T_RUNBOOK', domain: 'runbook-sim' },
      user: { id: 'U_ALICE', username: 'alice' },
      api_app_id: 'A_RUNBOOK',
      view: {
        id: viewId,
        callback_id: 'incident_declare',
        private_metadata: '{"channel":"C_INCIDENTS"}',
        hash: opened.view?.hash,
        state: {
          values: {
            title: { value: { type: 'plain_text_input', value: 'DB down' } },
            severity: {
              value: { type: 'static_select', selected_option: { value: 'sev1', text: { text: 'SEV1' } } },
            },
            commander: { value: { type: 'users_select', selected_user: 'U_BOB' } },
            services: {
              value: { type: 'checkboxes', selected_options: [{ value: 'api' }, { value: 'db' }] },
            },
            notify: { value: { type: 'radio_buttons', selected_option: { value: 'yes' } } },
            teams: { value: { type: 'multi_static_select', selected_options: [{ value: 'sre' }] } },
          },
        },
      },
      response_urls: [],
    });
    expect(sim.views[0]?.closed).toBe(true);
    await expect(client.submitView({ viewId })).rejects.toThrow(/closed/);
  });

  it('sends Events API callbacks and url_verification', async () => {
    const sent = await client.sendEvent(
      {
        type: 'app_mention',
        user: 'U_ALICE',
        text: '<@U_RUNBOOK> status',
        channel: 'C_INCIDENTS',
        ts: '1767600000.000100',
      },
      { retryNum: 2, retryReason: 'http_error', eventId: 'Ev0TEST' },
    );
    expect(sent.status).toBe(200);
    const got = lastCaptured();
    expect(got.verified).toBe(true);
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.headers['x-slack-retry-num']).toBe('2');
    expect(got.headers['x-slack-retry-reason']).toBe('http_error');
    expect(got.body).toMatchObject({
      type: 'event_callback',
      team_id: 'T_RUNBOOK',
      api_app_id: 'A_RUNBOOK',
      event_id: 'Ev0TEST',
      event: { type: 'app_mention', event_ts: '1767600000.000100' },
      authorizations: [{ team_id: 'T_RUNBOOK', user_id: 'U_RUNBOOK', is_bot: true }],
    });
    expect(got.body.event_time).toBeTypeOf('number');

    nextAnswer = { status: 200, body: { challenge: 'abc' } };
    const verification = await client.urlVerification('abc');
    expect(lastCaptured().body).toMatchObject({ type: 'url_verification', challenge: 'abc' });
    expect(verification.json).toEqual({ challenge: 'abc' });
  });

  it('works against a simulator in another process through /_sim endpoints', async () => {
    const remote = new SlackRequestClient({
      botUrl,
      signingSecret: SIGNING_SECRET,
      simulatorUrl: sim.baseUrl,
    });
    try {
      const command = await remote.slashCommand({ command: '/incident', text: 'x', userId: 'U_DAN' });
      expect(lastCaptured().body).toMatchObject({ user_name: 'dan', channel_name: 'incidents' });
      await fetch(command.responseUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          response_type: 'in_channel',
          text: 'Declared',
          blocks: [
            {
              type: 'actions',
              elements: [
                { type: 'button', action_id: 'inc_resolve', text: { type: 'plain_text', text: 'Resolve' } },
              ],
            },
          ],
        }),
      });
      await remote.clickButton({ actionId: 'inc_resolve', userId: 'U_DAN' });
      expect(lastCaptured().body).toMatchObject({
        type: 'block_actions',
        actions: [{ action_id: 'inc_resolve' }],
      });
    } finally {
      remote.close();
    }
  });
});
