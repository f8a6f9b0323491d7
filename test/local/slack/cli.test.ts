import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { App, LogLevel } from '@slack/bolt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assignmentsToValues, main, parseCliArgs } from '../../../src/local/cli.ts';
import { type SlackSimulator, startSlackSimulator } from '../../../src/local/slack/server.ts';

const run = promisify(execFile);
const SECRET = 'cli-secret';
let sim: SlackSimulator;
let app: App;
let dataDir: string;

beforeAll(async () => {
  sim = await startSlackSimulator();
  app = new App({
    token: sim.botToken,
    signingSecret: SECRET,
    clientOptions: { slackApiUrl: sim.apiUrl },
    logLevel: LogLevel.ERROR,
  });
  app.command('/incident', async ({ ack, respond, command }) => {
    await ack({ text: `Working on "${command.text}"…` });
    await respond({
      response_type: 'in_channel',
      text: 'Incident declared',
      blocks: [
        { type: 'section', text: { type: 'mrkdwn', text: `*Incident declared* by <@${command.user_id}>` } },
        {
          type: 'actions',
          elements: [
            { type: 'button', action_id: 'inc_ack', text: { type: 'plain_text', text: 'Acknowledge' } },
          ],
        },
      ],
    });
  });
  // A bare ack, and the answer well after it (as when a command's cloud SDK loads on first use).
  app.command('/deploy', async ({ ack, respond }) => {
    await ack();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await respond({ text: 'barq-api is running v42' });
  });
  app.action('inc_ack', async ({ ack, respond }) => {
    await ack();
    await respond({ replace_original: true, text: 'Acknowledged' });
  });
  const server = (await app.start(0)) as Server;
  dataDir = mkdtempSync(join(tmpdir(), 'runbook-cli-'));
  writeFileSync(
    join(dataDir, 'local-mode.json'),
    JSON.stringify({
      botUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`,
      signingSecret: SECRET,
      simulatorUrl: sim.baseUrl,
      teamId: 'T_RUNBOOK',
      apiAppId: 'A_RUNBOOK',
      defaultUserId: 'U_ALICE',
      defaultChannelId: 'C_INCIDENTS',
    }),
  );
});

afterAll(async () => {
  await app.stop();
  await sim.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('npm run slack (local mode CLI)', () => {
  it('parses commands and flags', () => {
    expect(parseCliArgs(['/incident help'])).toMatchObject({
      kind: 'slash',
      command: '/incident',
      text: 'help',
    });
    expect(
      parseCliArgs(['/deploy', 'api', 'v42', '--user', 'U_BOB', '--channel=#deployments']),
    ).toMatchObject({
      kind: 'slash',
      command: '/deploy',
      text: 'api v42',
      flags: { user: 'U_BOB', channel: '#deployments', waitMs: 2000 },
    });
    expect(parseCliArgs(['click', 'inc_ack', '--select', 'eu'])).toMatchObject({
      kind: 'click',
      actionId: 'inc_ack',
      flags: { select: ['eu'] },
    });
    expect(parseCliArgs(['incident'])).toMatchObject({ kind: 'error' });
    expect(parseCliArgs([])).toEqual({ kind: 'help' });
    const blocks = [
      { type: 'input', block_id: 'title', element: { type: 'plain_text_input', action_id: 'v' } },
      { type: 'input', block_id: 'teams', element: { type: 'checkboxes', action_id: 'v', options: [] } },
    ];
    expect(assignmentsToValues(['title=DB, down', 'teams.v=sre,web'], blocks)).toEqual({
      title: { v: 'DB, down' },
      teams: { v: ['sre', 'web'] },
    });
  });

  it('tells the user to run npm start when local mode is not running', async () => {
    const err: string[] = [];
    const empty = mkdtempSync(join(tmpdir(), 'runbook-cli-empty-'));
    try {
      const code = await main(['/incident help'], {
        out: () => {},
        err: (l) => err.push(l),
        env: { RUNBOOK_DATA_DIR: empty },
      });
      expect(code).toBe(1);
      expect(err.join('\n')).toMatch(/npm start/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('sends a command and prints what the bot answered (as a real process)', async () => {
    const env = { ...process.env, RUNBOOK_DATA_DIR: dataDir };
    const cli = join(process.cwd(), 'src/local/cli.ts');
    const { stdout } = await run(process.execPath, [cli, '/incident declare db down', '--wait', '250'], {
      env,
    });
    expect(stdout).toContain('@alice in #incidents: /incident declare db down');
    expect(stdout).toMatch(/✓ answered in \d+ ms \(only visible to you\)\n {3}Working on "declare db down"…/);
    expect(stdout).toContain('── reply in #incidents (visible to everyone)');
    expect(stdout).toContain('*Incident declared* by @alice');
    expect(stdout).toContain('[ Acknowledge ]');
    expect(stdout).toContain('npm run slack -- click inc_ack');

    const out: string[] = [];
    const code = await main(['click', 'inc_ack', '--user', 'U_BOB', '--wait', '250'], {
      out: (l) => out.push(l),
      err: (l) => out.push(l),
      env: { RUNBOOK_DATA_DIR: dataDir },
    });
    expect(code).toBe(0);
    expect(out.join('\n')).toContain('@bob clicked "inc_ack"');
    expect(out.join('\n')).toMatch(/── replaced message \S+ in #incidents\n {3}Acknowledged/);
  });

  it('after a bare ack, waits for the answer however late it comes within --wait', async () => {
    const out: string[] = [];
    const code = await main(['/deploy status barq-api', '--wait', '10000'], {
      out: (l) => out.push(l),
      err: (l) => out.push(l),
      env: { RUNBOOK_DATA_DIR: dataDir },
    });
    expect(code).toBe(0);
    expect(out.join('\n')).toMatch(/✓ acknowledged in \d+ ms/);
    expect(out.join('\n')).toContain('barq-api is running v42');
  });
});
