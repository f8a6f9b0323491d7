/**
 * The incident domain's state changes that used to live in the Slack layer (notes, 📌, health checks,
 * the archive timer), against real Postgres and the Slack simulator behind the notifier port.
 */
import { randomUUID } from 'node:crypto';
import { WebClient } from '@slack/web-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.ts';
import { configSchema } from '../../src/config/schema.ts';
import { HealthService } from '../../src/health/service.ts';
import { ARCHIVE_TIMER_KIND, archiveTimerId, INCIDENT_TIMERS } from '../../src/incidents/archive.ts';
import { IncidentInputError, IncidentNotFoundError } from '../../src/incidents/errors.ts';
import { checkAffectedServices } from '../../src/incidents/health-check.ts';
import { IncidentService } from '../../src/incidents/incident-service.ts';
import { type SlackSimulator, startSlackSimulator } from '../../src/local/slack/server.ts';
import { createLogger } from '../../src/logger.ts';
import { slackIncidentNotifier } from '../../src/slack/incidents/notifier.ts';
import { migrate } from '../../src/store/migrate.ts';
import type { FlowRun } from '../../src/store/repositories/flow-runs.ts';
import { incidentStore, repositories } from '../../src/store/repositories/index.ts';
import { bindTimerHandlers } from '../../src/timers/timers.ts';
import { type LocalServer, sendJson, startHttpServer } from '../health/helpers/servers.ts';
import { openPostgresForTest, type TestDatabase } from '../store/databases.ts';

const quiet = createLogger({ level: 'silent' });

describe('incident domain methods', () => {
  let database: TestDatabase;
  let service: IncidentService<FlowRun>;
  let sim: SlackSimulator;
  let client: WebClient;
  const clock = new ManualClock('2026-03-02T09:00:00Z');
  const config = configSchema.parse({ incidents: { archiveAfter: '1h' } });

  beforeAll(async () => {
    database = await openPostgresForTest();
    await migrate(database.db);
    service = new IncidentService({
      store: incidentStore(database.db, clock),
      clock,
      config,
      logger: quiet,
    });
    sim = await startSlackSimulator();
    client = new WebClient(sim.botToken, { slackApiUrl: sim.apiUrl, retryConfig: { retries: 0 } });
  });
  afterAll(async () => {
    await sim?.close();
    await database?.dispose();
  });

  const timeline = (n: number) => repositories(database.db, clock).timeline.list(n);
  const declare = async (title: string) =>
    (await service.declare({ title, severity: 'P2', declaredBy: 'U1' })).incident;
  const withChannel = async (title: string) => {
    const incident = await declare(title);
    const made = await client.conversations.create({
      name: `inc-${incident.number}-${randomUUID().slice(0, 6)}`,
    });
    const channelId = String(made.channel?.id);
    await repositories(database.db, clock).incidents.setSlackRefs(incident.number, { channelId });
    return { number: incident.number, channelId };
  };

  it('addNote: one note per delivery, refuses blank text and unknown incidents', async () => {
    const { number } = await declare('Notes');
    const first = await service.addNote(number, { actor: 'U2', text: ' Failed over ', deliveryKey: 'T1' });
    const again = await service.addNote(number, { actor: 'U2', text: 'Failed over', deliveryKey: 'T1' });
    expect(first.created).toBe(true);
    expect(again).toMatchObject({ created: false, event: { id: first.event.id } });
    expect(first.event).toMatchObject({
      kind: 'note',
      actor: 'U2',
      text: 'Failed over',
      sourceKey: 'note:T1',
    });
    await service.addNote(number, { actor: 'U3', text: 'No delivery key' });
    expect((await timeline(number)).filter((e) => e.kind === 'note').map((e) => e.text)).toEqual([
      'Failed over',
      'No delivery key',
    ]);
    await expect(service.addNote(number, { actor: 'U2', text: '  ' })).rejects.toThrow(IncidentInputError);
    await expect(service.addNote(999_999, { actor: 'U2', text: 'x' })).rejects.toThrow(IncidentNotFoundError);
  });

  it('recordPin / removePin: the pinned message on the timeline once, and off it again', async () => {
    const { number } = await declare('Pins');
    const pin = {
      message: { channelId: 'C9', ts: '1767600000.000100' },
      author: 'U_BOB',
      text: 'replica is healthy',
      permalink: 'https://example.slack.com/archives/C9/p1767600000000100',
      pinnedBy: 'U_CAROL',
      at: new Date('2026-01-05T08:00:00Z'),
    };
    const first = await service.recordPin(number, pin);
    expect(first.created).toBe(true);
    expect(first.event).toMatchObject({
      kind: 'pinned_message',
      actor: 'U_BOB',
      text: 'replica is healthy',
      sourceKey: 'pin:C9:1767600000.000100',
      data: { channel: 'C9', ts: '1767600000.000100', author: 'U_BOB', pinnedBy: 'U_CAROL' },
    });
    expect((await service.recordPin(number, { ...pin, pinnedBy: 'U_DAN' })).created).toBe(false);
    expect(await service.removePin(pin.message)).toBe(true);
    expect(await service.removePin(pin.message)).toBe(false);
    expect((await timeline(number)).map((e) => e.kind)).toEqual(['declared']);
  });

  it('resolve schedules the archive timer (archiveAfter after the resolve); reopen cancels it', async () => {
    const { number } = await withChannel('Archive');
    const { incident, archive } = await service.resolve(number, { actor: 'U1', resolution: 'Fixed' });
    expect(incident.status).toBe('resolved');
    expect(archive).toEqual({ dueAt: new Date('2026-03-02T10:00:00Z') });
    const timers = repositories(database.db, clock).timers;
    expect((await timers.get(archiveTimerId(number)))?.dueAt).toEqual(new Date('2026-03-02T10:00:00Z'));
    await service.reopen(number, { actor: 'U1' });
    expect(await timers.get(archiveTimerId(number))).toBeNull();

    await service.resolve(number, { actor: 'U1', resolution: 'Fixed again' });
    expect(await timers.get(archiveTimerId(number))).toMatchObject({
      id: archiveTimerId(number),
      kind: ARCHIVE_TIMER_KIND,
      subject: `incident:${number}`,
      payload: { incident: number },
      dueAt: new Date('2026-03-02T10:00:00Z'),
    });
    // A lightweight incident (no channel) has nothing to archive.
    const light = await declare('Lightweight');
    expect((await service.resolve(light.number, { actor: 'U1', resolution: 'ok' })).archive).toBeNull();
  });

  it('the archive timer handler archives a resolved channel through the notifier, and keeps an open one', async () => {
    const handlers = bindTimerHandlers(INCIDENT_TIMERS, {
      incidents: service,
      notifier: slackIncidentNotifier(client),
      logger: quiet,
    });
    const archiveTimer = handlers[ARCHIVE_TIMER_KIND];
    if (!archiveTimer) throw new Error('no archive timer handler');
    const resolved = await withChannel('To archive');
    const open = await withChannel('Still open');
    await service.resolve(resolved.number, { actor: 'U1', resolution: 'Fixed' });
    const due = (number: number) => ({
      id: archiveTimerId(number),
      kind: ARCHIVE_TIMER_KIND,
      subject: `incident:${number}`,
      payload: { incident: number },
      dueAt: clock.now(),
      attempt: 1,
    });
    await archiveTimer(due(resolved.number));
    expect(sim.workspace.channels.get(resolved.channelId)?.isArchived).toBe(true);
    // Due twice (a second replica, a retry): already archived is not an error.
    await archiveTimer(due(resolved.number));
    await archiveTimer(due(open.number));
    expect(sim.workspace.channels.get(open.channelId)?.isArchived).toBe(false);
  });

  it('recordHealthCheck: the health_check event with the summary and where the result was posted', async () => {
    const { number } = await declare('Health');
    const server: LocalServer = await startHttpServer((req, res) =>
      req.url?.startsWith('/down')
        ? sendJson(res, 503, { status: 'unhealthy' })
        : sendJson(res, 200, { status: 'healthy' }),
    );
    try {
      const platform = { kind: 'kubernetes', namespace: 'ops', deployment: 'app' };
      const check = (path: string) => [{ name: 'http', type: 'http', url: `${server.url}${path}` }];
      const withServices = configSchema.parse({
        services: [
          { name: 'api', environment: 'staging', platform, healthChecks: check('/down/api-staging') },
          { name: 'api', environment: 'production', platform, healthChecks: check('/api-production') },
          { name: 'web', environment: 'staging', platform, healthChecks: check('/web-staging') },
          { name: 'web', environment: 'qa', platform, healthChecks: check('/down/web-qa') },
          { name: 'batch', platform },
        ],
      });
      const health = new HealthService({ config: withServices, clock, logger: quiet });
      const checked = await checkAffectedServices(health, withServices, [
        'api',
        'web',
        'batch',
        'ghost',
        'api',
      ]);
      // Production wins when the name has one; else every environment is checked.
      expect(checked.reports.map((r) => [r.service, r.environment, r.status])).toEqual([
        ['api', 'production', 'healthy'],
        ['web', 'staging', 'healthy'],
        ['web', 'qa', 'unhealthy'],
      ]);
      expect(checked.notConfigured).toEqual(['ghost']);
      expect(checked.noChecks).toEqual(['batch (production)']);

      const message = { channelId: 'C1', ts: '1767600000.000200' };
      const { event, status } = await service.recordHealthCheck(number, { actor: 'U_BOB', checked, message });
      expect(status).toBe('unhealthy');
      expect(event).toMatchObject({ kind: 'health_check', actor: 'U_BOB' });
      expect(event.text).toMatch(/^Health check: unhealthy\. api \(production\) healthy/);
      expect(event.data).toMatchObject({
        status: 'unhealthy',
        notConfigured: ['ghost'],
        noChecks: ['batch (production)'],
        message,
      });
      expect((event.data.services as unknown[]).length).toBe(3);
    } finally {
      await server.close();
    }
  });
});
