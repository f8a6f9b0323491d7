/**
 * A bot process killed (SIGKILL) part-way through the Slack setup of declares, at every step, then
 * two fresh replicas on the same Postgres schema: the setups are finished, each by one replica, with
 * exactly one channel per incident, and a retry of a declare answers with a link.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../../src/clock.ts';
import { FLOW_LEASE_MS } from '../../../src/flows/recorded-flow.ts';
import { INCIDENT_SETUP_FLOW } from '../../../src/incidents/incident-service.ts';
import { SlackRequestClient } from '../../../src/local/slack/client.ts';
import type { JsonObject } from '../../../src/local/slack/json.ts';
import { type SlackSimulator, startSlackSimulator } from '../../../src/local/slack/server.ts';
import { openPostgres } from '../../../src/store/postgres.ts';
import { startTestBot, type TestBot } from '../../helpers/bot.ts';
import { TEST_DATABASE_URL } from '../../helpers/services.ts';
import { type BotProcess, spawnBotProcess } from '../../helpers/spawn-bot.ts';
import { eventually } from './helpers.ts';

/** Long enough that the killed process never hears back. */
const HANG_MS = 120_000;

describe('declares cut short by a kill -9', () => {
  const dir = mkdtempSync(join(tmpdir(), 'crash-e2e-'));
  const configPath = join(dir, 'runbook.yml');
  writeFileSync(configPath, 'organisation: Test\n');
  const schema = `e2e_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  const keyPrefix = `test:${randomUUID()}:`;
  const signingSecret = `test-secret-${randomUUID()}`;
  let sim: SlackSimulator | undefined;
  let killed: BotProcess | undefined;
  const replicas: TestBot[] = [];

  afterAll(async () => {
    await killed?.signal('SIGKILL');
    for (const replica of replicas) await replica.stop();
    await sim?.close();
    const admin = await openPostgres(TEST_DATABASE_URL);
    try {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    } finally {
      await admin.close();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('are finished on start-up, each by one of two replicas: one channel, pinned headline, one announcement', async () => {
    const simulator = await startSlackSimulator();
    sim = simulator;
    const channelName = (args: JsonObject) =>
      simulator.workspace.channels.get(String(args.channel))?.name ?? '';
    const inChannelOf = (title: string) => (args: JsonObject) => channelName(args).endsWith(`-${title}`);
    // Each declare stops at its own step: the call hangs (nothing done) until the process is killed.
    // `kp-adopt`: Slack creates the channel, but the bot dies before it hears (and records) the answer.
    const hang = { delayMs: HANG_MS, error: 'fatal_error' };
    const points = {
      'kp-create': {
        method: 'conversations.create',
        ...hang,
        match: (a: JsonObject) => String(a.name).endsWith('-kp-create'),
      },
      'kp-adopt': {
        method: 'conversations.create',
        delayMs: HANG_MS,
        match: (a: JsonObject) => String(a.name).endsWith('-kp-adopt'),
      },
      'kp-invite': { method: 'conversations.invite', ...hang, match: inChannelOf('kp-invite') },
      'kp-topic': { method: 'conversations.setTopic', ...hang, match: inChannelOf('kp-topic') },
      'kp-headline': { method: 'chat.postMessage', ...hang, match: inChannelOf('kp-headline') },
      'kp-pin': { method: 'pins.add', ...hang, match: inChannelOf('kp-pin') },
      'kp-announce': {
        method: 'chat.postMessage',
        ...hang,
        args: { channel: '#incidents' },
        match: (a: JsonObject) => String(a.text).includes('kp-announce'),
      },
    };
    for (const fault of Object.values(points)) simulator.injectFault(fault);

    const bot = await spawnBotProcess({ sim: simulator, schema, keyPrefix, signingSecret, configPath });
    killed = bot;
    const slack = new SlackRequestClient({ botUrl: `${bot.url}/slack/events`, signingSecret, simulator });
    const titles = Object.keys(points);
    const requests = await Promise.all(
      titles.map((title) =>
        slack.slashCommand({ command: '/incident', text: `declare P2 ${title}`, channelId: 'C_INCIDENTS' }),
      ),
    );
    slack.close();
    await eventually(() => {
      const hanging = simulator.calls.filter((c) => c.fault).length;
      if (hanging < titles.length)
        throw new Error(`${hanging} of ${titles.length} declares at their kill point`);
    }, 15_000);
    expect((await bot.signal('SIGKILL')).signal).toBe('SIGKILL');
    killed = undefined;
    expect(simulator.messagesIn('C_INCIDENTS').filter((m) => titles.some((t) => m.text.includes(t)))).toEqual(
      [],
    );

    // Two replicas start together after the dead process's claims ran out.
    const later: Clock = { now: () => new Date(Date.now() + FLOW_LEASE_MS + 30_000) };
    const replicaOf = { sim: simulator, schema, keyPrefix, signingSecret };
    replicas.push(
      ...(await Promise.all([
        startTestBot({ env: { RUNBOOK_CONFIG: configPath }, replicaOf, clock: later }),
        startTestBot({ env: { RUNBOOK_CONFIG: configPath }, replicaOf, clock: later }),
      ])),
    );
    const [first] = replicas;
    if (!first) throw new Error('no replica');

    // Slack retries the first declare on the new replica: same trigger, same response_url.
    const retried = requests[0];
    if (!retried) throw new Error('no request');
    const since = simulator.responses.length;
    const retrySlack = new SlackRequestClient({
      botUrl: `${first.runtime.url}/slack/events`,
      signingSecret,
      simulator,
    });
    await retrySlack.slashCommand({
      command: '/incident',
      text: 'declare P2 kp-create',
      channelId: 'C_INCIDENTS',
      triggerId: retried.triggerId,
      responseUrl: retried.responseUrl,
      retryNum: 1,
    });
    retrySlack.close();
    const retryAnswer = String((await simulator.waitForResponse({ since, timeoutMs: 15_000 })).body.text);

    const db = first.runtime.services.db;
    await eventually(async () => {
      const { rows } = await db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM flow_runs WHERE flow = $1 AND outcome IS DISTINCT FROM $2',
        [INCIDENT_SETUP_FLOW, 'completed'],
      );
      expect(rows[0]?.n).toBe(0);
    }, 15_000);

    const incidents = await first.runtime.services.repos.incidents.listOpen();
    expect(incidents.map((i) => i.title).sort()).toEqual([...titles].sort());
    for (const incident of incidents) {
      const label = `${incident.title} (INC-${incident.number})`;
      const channels = [...simulator.workspace.channels.values()].filter((c) =>
        c.name.startsWith(`inc-${incident.number}-`),
      );
      expect(
        channels.map((c) => c.name),
        label,
      ).toEqual([`inc-${incident.number}-${incident.title}`]);
      const channel = channels[0];
      expect(incident.channelId, label).toBe(channel?.id);
      expect(channel?.members.has('U_ALICE'), label).toBe(true);
      expect(channel?.topic.value, label).toMatch(new RegExp(`^INC-${incident.number} \\| P2 `));
      const posted = simulator.messagesIn(incident.channelId ?? '').filter((m) => m.subtype === undefined);
      expect(
        posted.map((m) => m.ts),
        label,
      ).toEqual([incident.headline?.ts]);
      expect(posted[0]?.pinned, label).toBe(true);
      const announced = simulator
        .messagesIn('C_INCIDENTS', { topLevelOnly: true })
        .filter((m) => m.text.includes(incident.title));
      expect(
        announced.map((m) => m.ts),
        label,
      ).toEqual([incident.announcement?.ts]);
      // The declarer never got an answer from the killed process: the replica that finished tells them
      // (the retried one answers the retry instead, unless a sweep got there first).
      if (incident.title !== 'kp-create') {
        await eventually(() => {
          const told = simulator.ephemeralsFor('U_ALICE').map((e) => e.text);
          expect(told, label).toContain(
            `:rotating_light: INC-${incident.number} is declared and set up (the bot restarted while setting it up). Follow it in <#${incident.channelId}>.`,
          );
        });
      }
    }
    const retriedIncident = incidents.find((i) => i.title === 'kp-create');
    expect(retryAnswer).toBe(
      `INC-${retriedIncident?.number} was already declared from this request; it lives in <#${retriedIncident?.channelId}>.`,
    );
  });
});
