/**
 * End-to-end compatibility: a real Bolt app (HTTPReceiver, WebClient via
 * clientOptions.slackApiUrl) against the simulator, driven by the request client.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, LogLevel } from '@slack/bolt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlackRequestClient } from '../../../src/local/slack/client.ts';
import { type SlackSimulator, startSlackSimulator } from '../../../src/local/slack/server.ts';

const SIGNING_SECRET = 'bolt-e2e-secret';
let sim: SlackSimulator;
let app: App;
let server: Server;
let client: SlackRequestClient;

beforeAll(async () => {
  sim = await startSlackSimulator();
  app = new App({
    token: sim.botToken,
    signingSecret: SIGNING_SECRET,
    clientOptions: { slackApiUrl: sim.apiUrl },
    logLevel: LogLevel.ERROR,
  });

  app.command('/incident', async ({ command, ack, client: web, respond }) => {
    if (command.text === 'declare') {
      await ack();
      await web.views.open({
        trigger_id: command.trigger_id,
        view: {
          type: 'modal',
          callback_id: 'declare',
          private_metadata: command.channel_id,
          title: { type: 'plain_text', text: 'Declare incident' },
          submit: { type: 'plain_text', text: 'Declare' },
          blocks: [
            {
              type: 'input',
              block_id: 'title',
              label: { type: 'plain_text', text: 'Title' },
              element: { type: 'plain_text_input', action_id: 'value' },
            },
          ],
        },
      });
      return;
    }
    await ack({ response_type: 'ephemeral', text: 'Usage: /incident declare' });
    await respond({ response_type: 'in_channel', text: `<@${command.user_id}> asked for help` });
  });

  app.view('declare', async ({ ack, view, body, client: web }) => {
    const title = view.state.values.title?.value?.value ?? '';
    if (title.length < 5) {
      await ack({ response_action: 'errors', errors: { title: 'At least 5 characters' } });
      return;
    }
    await ack();
    await web.chat.postMessage({
      channel: view.private_metadata,
      text: `Incident declared: ${title}`,
      blocks: [
        { type: 'section', text: { type: 'mrkdwn', text: `*${title}* declared by <@${body.user.id}>` } },
        {
          type: 'actions',
          elements: [
            {
              type: 'button',
              action_id: 'inc_ack',
              value: 'inc-1',
              text: { type: 'plain_text', text: 'Ack' },
            },
          ],
        },
      ],
    });
  });

  app.action('inc_ack', async ({ ack, respond, body }) => {
    await ack();
    await respond({ replace_original: true, text: `Acked by <@${body.user.id}>` });
  });

  server = (await app.start(0)) as Server;
  const port = (server.address() as AddressInfo).port;
  client = new SlackRequestClient({
    botUrl: `http://127.0.0.1:${port}/slack/events`,
    signingSecret: SIGNING_SECRET,
    simulator: sim,
  });
});

afterAll(async () => {
  client.close();
  await app.stop();
  await sim.close();
});

describe('a Bolt app against the simulator', () => {
  it('handles a command, a modal submission and a button click', async () => {
    const help = await client.slashCommand({ command: '/incident', text: 'help', userId: 'U_ALICE' });
    expect(help.status).toBe(200);
    expect(help.json).toEqual({ response_type: 'ephemeral', text: 'Usage: /incident declare' });
    const posted = await sim.waitForResponse();
    expect(posted).toMatchObject({ outcome: 'in_channel', body: { text: '<@U_ALICE> asked for help' } });

    const since = sim.calls.length;
    const declare = await client.slashCommand({ command: '/incident', text: 'declare', userId: 'U_BOB' });
    expect(declare.status).toBe(200);
    const opened = await sim.waitForCall('views.open', { since });
    expect(opened.response).toMatchObject({ ok: true });

    const tooShort = await client.submitView({ callbackId: 'declare', values: { title: { value: 'DB' } } });
    expect(tooShort.errors).toEqual({ title: 'At least 5 characters' });

    const ok = await client.submitView({
      callbackId: 'declare',
      values: { title: { value: 'Database down' } },
    });
    expect(ok.status).toBe(200);
    expect(ok.outcome?.outcome).toBe('closed');
    const message = await sim.waitForCall('chat.postMessage', { since });
    expect(message.args).toMatchObject({ channel: 'C_INCIDENTS', text: 'Incident declared: Database down' });

    await client.clickButton({ actionId: 'inc_ack', userId: 'U_CAROL' });
    const replaced = await sim.waitForResponse({ predicate: (r) => r.outcome === 'replaced' });
    expect(replaced.body).toMatchObject({ replace_original: true, text: 'Acked by <@U_CAROL>' });
    const ts = String((message.response as { ts?: string }).ts);
    expect(sim.workspace.findMessage('C_INCIDENTS', ts)?.text).toBe('Acked by <@U_CAROL>');
  });
});
