/**
 * SIGTERM (a rolling restart) while a declare is setting the incident up in Slack: the process
 * stops taking requests, finishes the setup, and only then closes Postgres and exits.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { INCIDENT_SETUP_FLOW } from '../../../src/incidents/incident-service.ts';
import { SlackRequestClient } from '../../../src/local/slack/client.ts';
import { type SlackSimulator, startSlackSimulator } from '../../../src/local/slack/server.ts';
import { openPostgres } from '../../../src/store/postgres.ts';
import { repositories } from '../../../src/store/repositories/index.ts';
import { TEST_DATABASE_URL } from '../../helpers/services.ts';
import { type BotProcess, spawnBotProcess } from '../../helpers/spawn-bot.ts';

describe('SIGTERM', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shutdown-e2e-'));
  const configPath = join(dir, 'runbook.yml');
  writeFileSync(configPath, 'organisation: Test\n');
  const schema = `e2e_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  let sim: SlackSimulator | undefined;
  let bot: BotProcess | undefined;

  afterAll(async () => {
    await bot?.signal('SIGKILL');
    await sim?.close();
    const admin = await openPostgres(TEST_DATABASE_URL);
    try {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    } finally {
      await admin.close();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('lets an in-flight declare finish its Slack setup before the database closes', async () => {
    const simulator = await startSlackSimulator();
    sim = simulator;
    const signingSecret = `test-secret-${randomUUID()}`;
    bot = await spawnBotProcess({
      sim: simulator,
      schema,
      keyPrefix: `test:${randomUUID()}:`,
      signingSecret,
      configPath,
    });
    // Slack is slow to pin: the declare is mid-setup when the signal comes.
    simulator.injectFault({ method: 'pins.add', delayMs: 1_500 });
    const since = simulator.calls.length;
    const slack = new SlackRequestClient({ botUrl: `${bot.url}/slack/events`, signingSecret, simulator });
    await slack.slashCommand({
      command: '/incident',
      text: 'declare P1 Rolling restart',
      channelId: 'C_INCIDENTS',
    });
    slack.close();
    await simulator.waitForCall('pins.add', { since, timeoutMs: 10_000 });

    const exit = await bot.signal('SIGTERM');
    expect(exit, bot.output.join('')).toEqual({ code: 0, signal: null });
    bot = undefined;

    const db = await openPostgres(TEST_DATABASE_URL, { schema });
    try {
      const repos = repositories(db);
      const [incident] = await repos.incidents.listOpen();
      expect(incident?.title).toBe('Rolling restart');
      expect(incident?.headline?.channelId).toBe(incident?.channelId);
      expect(incident?.announcement?.channelId).toBe('C_INCIDENTS');
      const run = await repos.flowRuns.get(INCIDENT_SETUP_FLOW, String(incident?.number));
      expect(run?.outcome).toBe('completed');
      const announced = simulator.messagesIn('C_INCIDENTS').filter((m) => m.text.includes('Rolling restart'));
      expect(announced.map((m) => m.ts)).toEqual([incident?.announcement?.ts]);
      expect(simulator.responses.map((r) => String(r.body.text))).toEqual([
        `:rotating_light: INC-${incident?.number} declared. Follow it in <#${incident?.channelId}>.`,
      ]);
    } finally {
      await db.close();
    }
  });
});
