/**
 * `/deploy rollout` end to end in virtual time: signed Slack requests, the Cloud Run and App Service
 * fakes (the real SDK adapters over their wire protocols) and an in-process Prometheus; the durable
 * timers are driven by moving a ManualClock and polling the replicas' timer loops.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OAuth2Client } from 'google-auth-library';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.ts';
import { type AppServiceFake, startAppServiceFake } from '../../src/local/platforms/appservice/server.ts';
import { type CloudRunFake, startCloudRunFake } from '../../src/local/platforms/cloudrun/server.ts';
import type { SimMessage } from '../../src/local/slack/workspace.ts';
import type { Platform } from '../../src/platform/platform.ts';
import {
  APPROVE_DEPLOY_ACTION,
  CONFIRM_DEPLOY_ACTION,
  DECLARE_FROM_DEPLOY_ACTION,
} from '../../src/slack/deploy/blocks/card.ts';
import {
  ABORT_ROLLOUT_ACTION,
  PAUSE_ROLLOUT_ACTION,
  PROMOTE_ROLLOUT_ACTION,
  RESUME_ROLLOUT_ACTION,
} from '../../src/slack/deploy/rollout-card.ts';
import type { Operation } from '../../src/store/repositories/operations.ts';
import type { RolloutRun } from '../../src/store/repositories/rollouts.ts';
import { startTestBot, type TestBot } from '../helpers/bot.ts';
import { until } from '../helpers/until.ts';
import { type PrometheusFake, startPrometheusFake } from './prometheus-fake.ts';

const V1 = 'registry.example.com/app:v1';
const V2 = 'registry.example.com/app:v2';
const CLOUD_RUN = [
  'barq-ok',
  'barq-bad',
  'barq-unread',
  'barq-replicas',
  'barq-restart',
  'barq-promote',
  'barq-crash',
  'barq-dev',
  'barq-status',
  'barq-race',
];
/** In development: no approvals (the default rule), so one Promote click promotes. */
const DEVELOPMENT = ['barq-dev'];
const query = (name: string) => `error_rate{service="${name}"}`;

describe('/deploy rollout, in virtual time', () => {
  const clock = new ManualClock('2026-01-05T08:00:00Z');
  const cloudruns = new Map<string, CloudRunFake>();
  let appservice: AppServiceFake;
  let agent: Agent;
  let prometheus: PrometheusFake;
  let dir: string;
  let configPath: string;
  let bot: TestBot;
  const extra: TestBot[] = [];

  const adapters = {
    cloudrun: async (service: { name: string }) => {
      const authClient = new OAuth2Client();
      authClient.setCredentials({
        access_token: cloudruns.get(service.name)?.accessToken ?? '',
        expiry_date: Date.now() + 3_600_000,
      });
      return { authClient, retry: { baseDelayMs: 1 }, operationPollMs: 5 };
    },
    appservice: async () => ({
      credential: {
        getToken: async () => ({ token: appservice.token, expiresOnTimestamp: Date.now() + 3_600_000 }),
      },
      clientOptions: { agent },
      retry: { baseDelayMs: 1 },
      operationPollMs: 5,
    }),
  };

  const startBot = (replicaOf?: TestBot) =>
    startTestBot({
      env: { RUNBOOK_CONFIG: configPath },
      clock,
      platformAdapters: adapters,
      // Hours of virtual time in seconds of real time: the cards of a dozen roll-outs are updated
      // more often in a real minute than Slack's tier 3 allows chat.update (50), and the bot would
      // rightly wait out Retry-After (31 s). The limiter itself is tested in test/slack/kit.
      simulator: { rateLimits: { limits: { 'chat.update': 1_000 } } },
      ...(replicaOf ? { replicaOf } : {}),
    });

  beforeAll(async () => {
    prometheus = await startPrometheusFake(() => clock.now());
    const prom = (name: string) =>
      `    healthChecks: [{ type: prometheus, name: error rate, url: "${prometheus.url}", query: '${query(name)}', unhealthyWhen: { op: ">", value: 0.05 } }]`;
    // Production's default change control: two approvers, a tech lead and a PM (windows off: the
    // roll-outs below run for hours of virtual time). The tech leads are a Slack user group
    // (S_ONCALL: Alice and Bob): Bob is an approver only through it.
    const lines = [
      'approvers: { tech-lead: [S_ONCALL], pm: [U_CAROL], cto: [U_CAROL] }',
      'deploy: { windows: { production: [] } }',
      'services:',
    ];
    for (const name of CLOUD_RUN) {
      const fake = await startCloudRunFake({ reconcileMs: 5, service: name });
      await fake.deploy(V1);
      await new Promise((r) => setTimeout(r, 20));
      await fake.deploy(V2);
      cloudruns.set(name, fake);
      prometheus.set(query(name), 0.003);
      lines.push(
        `  - name: ${name}`,
        ...(DEVELOPMENT.includes(name) ? ['    environment: development'] : []),
        `    platform: { kind: cloudrun, project: ${fake.project}, region: ${fake.region}, service: ${fake.service}, endpoint: "${fake.url}" }`,
        prom(name),
      );
    }
    appservice = await startAppServiceFake({ warmupMs: 5, app: 'fleet-ok' });
    await appservice.deploy(V1);
    agent = new Agent({ ca: appservice.certificate, keepAlive: true });
    prometheus.set(query('fleet-ok'), 0.002);
    lines.push(
      '  - name: fleet-ok',
      `    platform: { kind: appservice, subscriptionId: ${appservice.subscriptionId}, resourceGroup: ${appservice.resourceGroup}, app: ${appservice.app}, slot: ${appservice.slot}, endpoint: "${appservice.url}" }`,
      '    rollout: { steps: [25, 100], interval: 2m, analysis: [{ name: error rate, provider: prometheus, query: \'error_rate{service="fleet-ok"}\', interval: 1m, count: 2, failureCondition: "result > 0.05" }, { name: health, provider: health, interval: 1m, count: 2, successCondition: "result == healthy" }] }',
      prom('fleet-ok'),
      '  - name: architect-api',
      '    platform: { kind: kubernetes, namespace: prod, deployment: architect-api, endpoint: "https://127.0.0.1:1" }',
    );
    dir = mkdtempSync(join(tmpdir(), 'rollout-'));
    configPath = join(dir, 'runbook.yml');
    writeFileSync(configPath, `${lines.join('\n')}\n`);
    bot = await startBot();
    // Only the polls below move timers: the background loop would race them.
    await bot.runtime.timers.stop();
  });

  afterAll(async () => {
    for (const b of extra) await b.stop().catch(() => undefined);
    await bot?.stop();
    for (const fake of cloudruns.values()) await fake.close();
    await appservice?.close();
    agent?.destroy();
    await prometheus?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const service = (name: string) => {
    const found = bot.runtime.services.config.services.find((s) => s.name === name);
    if (!found) throw new Error(name);
    return found;
  };
  const platform = (name: string): Promise<Platform> => bot.runtime.services.platforms.for(service(name));
  const traffic = async (name: string) =>
    Object.fromEntries(
      ((await (await platform(name)).status()).traffic ?? []).map((t) => [t.revision, t.percent]),
    );
  const trafficPatches = (name: string) =>
    cloudruns.get(name)!.requests.filter((r) => r.method === 'PATCH' && r.query.updateMask === 'traffic')
      .length;

  /** CI deployed v2 with no traffic: v1 serves all of it. Returns [v1, v2] revision ids. */
  async function stageOnCloudRun(name: string): Promise<[string, string]> {
    const p = await platform(name);
    const history = await p.history(5);
    const v2 = history.find((r) => r.image === V2)!.id;
    const v1 = history.find((r) => r.image === V1)!.id;
    await p.setTraffic!([{ revision: v1, percent: 100 }]);
    await p.waitUntilSettled({ timeoutMs: 5_000, pollMs: 10 });
    return [v1, v2];
  }

  const current = (m: SimMessage) => bot.sim.messagesIn(m.channel).find((x) => x.ts === m.ts) ?? m;
  const ephemeral = async (since: number) =>
    String(((await bot.sim.waitForResponse({ since })).body as { text?: string }).text);

  /** Asks for the roll-out, confirms its card; returns the card and the operation. */
  /** What the bot answered a command, in its ack or afterwards. */
  async function answerTo(text: string): Promise<string> {
    const responses = bot.sim.responses.length;
    const res = await bot.slack.slashCommand({
      command: '/deploy',
      text,
      userId: 'U_ALICE',
      channelId: 'C_GENERAL',
    });
    const acked = (res.json as { text?: string } | null)?.text;
    return acked ?? ephemeral(responses);
  }

  async function latestOf(name: string): Promise<Operation> {
    const [latest] = await bot.runtime.services.repos.operations.listRecent({ service: name, limit: 1 });
    if (!latest) throw new Error(`no operation on ${name}`);
    return latest;
  }

  async function rollOut(
    name: string,
    words: string,
    { approvals = true }: { approvals?: boolean } = {},
  ): Promise<{ card: SimMessage; op: Operation }> {
    const since = bot.sim.messagesIn('C_GENERAL').length;
    const responses = bot.sim.responses.length;
    await bot.slack.slashCommand({
      command: '/deploy',
      text: `rollout ${name} ${words}`,
      userId: 'U_ALICE',
      channelId: 'C_GENERAL',
    });
    expect(await ephemeral(responses)).toContain('only you can confirm');
    const card = await until('the card', () =>
      bot.sim
        .messagesIn('C_GENERAL')
        .slice(since)
        .find((m) => JSON.stringify(m.blocks ?? []).includes(CONFIRM_DEPLOY_ACTION)),
    );
    expect(card.text).toContain(`roll out ${name}`);
    await bot.slack.clickButton({ message: card, actionId: CONFIRM_DEPLOY_ACTION, userId: 'U_ALICE' });
    if (!approvals) {
      const op = await until('the roll-out running', async () => {
        const latest = await latestOf(name);
        return latest.kind === 'rollout' && latest.state === 'running' ? latest : undefined;
      });
      return { card, op };
    }
    // Awaiting approval: nothing runs until the tech lead and the PM approved; the last one starts it.
    await until('awaiting approval', async () => {
      const [latest] = await bot.runtime.services.repos.operations.listRecent({ service: name, limit: 1 });
      return latest?.state === 'awaiting_approval' ? latest : undefined;
    });
    expect(await bot.runtime.services.repos.rollouts.get((await latestOf(name)).id)).toBeNull();
    const awaiting = await until('the Approve button', () =>
      JSON.stringify(current(card).blocks).includes(APPROVE_DEPLOY_ACTION) ? current(card) : undefined,
    );
    await bot.slack.clickButton({ message: awaiting, actionId: APPROVE_DEPLOY_ACTION, userId: 'U_BOB' });
    await bot.slack.clickButton({ message: awaiting, actionId: APPROVE_DEPLOY_ACTION, userId: 'U_CAROL' });
    const op = await until('the roll-out running', async () => {
      const [latest] = await bot.runtime.services.repos.operations.listRecent({ service: name, limit: 1 });
      return latest?.kind === 'rollout' && latest.state === 'running' ? latest : undefined;
    });
    return { card, op };
  }

  const runOf = async (op: Operation): Promise<RolloutRun> =>
    (await bot.runtime.services.repos.rollouts.get(op.id))!;
  const opOf = async (op: Operation): Promise<Operation> =>
    (await bot.runtime.services.repos.operations.get(op.id))!;

  /** Moves virtual time a minute at a time, polling every replica, until `done`. */
  async function tickUntil(
    what: string,
    done: () => Promise<boolean>,
    replicas: TestBot[] = [bot],
    max = 40,
  ) {
    for (let i = 0; i < max; i++) {
      await Promise.all(replicas.map((b) => b.runtime.timers.poll()));
      if (await done()) return;
      clock.advance(60_000);
    }
    throw new Error(`virtual time ran out waiting for ${what}`);
  }

  const atStep = (op: Operation, step: number) => async () => {
    const run = await runOf(op);
    return run.stepIndex === step && run.stepApplied;
  };
  const finished = (op: Operation) => async () => ['succeeded', 'failed'].includes((await opOf(op)).state);

  const stepAudits = async (op: Operation) => {
    const { rows } = await bot.runtime.services.db.query<{ outcome: string }>(
      'SELECT outcome FROM audit_records WHERE operation_id = $1 ORDER BY id',
      [op.id],
    );
    return rows.map((r) => r.outcome);
  };

  /** Every measurement taken once: no (step, round, metric, n) twice. */
  const noRepeatedMeasurement = (run: RolloutRun) => {
    const keys = run.measurements.map((m) => `${m.step}/${m.round}/${m.metric}/${m.n}`);
    expect(new Set(keys).size).toBe(keys.length);
  };

  const thread = async (op: Operation) => {
    const notice = (await opOf(op)).noticeTs!;
    return bot.sim.thread('C_DEPLOYMENTS', notice).map((m) => m.text);
  };

  it('Cloud Run: 10 → 50 → 100 % with the error rate watched, the card in place, succeeded', async () => {
    const [v1, v2] = await stageOnCloudRun('barq-ok');
    const patches = trafficPatches('barq-ok');
    const { card, op } = await rollOut('barq-ok', v2);
    expect(op.params.steps).toEqual([10, 50, 100]);
    expect(op.params.fromRevision).toBe(v1);

    await tickUntil('step 1', atStep(op, 0));
    expect(await traffic('barq-ok')).toEqual({ [v1]: 90, [v2]: 10 });
    await until('the card at step 1', () =>
      current(card).text.includes('step 1 of 3, 10 %') ? true : undefined,
    );
    clock.advance(60_000);
    await bot.runtime.timers.poll();
    await until('the first measurement on the card', () =>
      JSON.stringify(current(card).blocks).includes('*error rate:* 0.3 % (1 of 5') ? true : undefined,
    );
    expect(JSON.stringify(current(card).blocks)).toContain('<!date^');
    expect(JSON.stringify(current(card).blocks)).toContain(PAUSE_ROLLOUT_ACTION);

    await tickUntil('step 2', atStep(op, 1));
    expect(await traffic('barq-ok')).toEqual({ [v1]: 50, [v2]: 50 });
    await tickUntil('the end', finished(op));
    expect((await opOf(op)).state).toBe('succeeded');
    expect(await traffic('barq-ok')).toEqual({ [v2]: 100 });
    expect(trafficPatches('barq-ok') - patches).toBe(3);
    const run = await runOf(op);
    expect(run.state).toBe('succeeded');
    expect(run.measurements).toHaveLength(10);
    noRepeatedMeasurement(run);
    expect((await stepAudits(op)).filter((o) => o === 'step')).toHaveLength(3);
    await until('the final card', () => (current(card).text.includes('verified healthy') ? true : undefined));
    expect((await thread(op)).join('\n')).toMatch(/rolled out `\S+` to 100 %/);
    expect(await bot.runtime.services.repos.timers.list({ subject: `operation:${op.id}` })).toEqual([]);
  });

  it('Cloud Run: the error rate crosses 5 % at 50 % and the roll-out rolls back by itself', async () => {
    const [v1, v2] = await stageOnCloudRun('barq-bad');
    const { card, op } = await rollOut('barq-bad', `${v2} --interval 5m`);
    await tickUntil('step 2', atStep(op, 1));
    expect(await traffic('barq-bad')).toEqual({ [v1]: 50, [v2]: 50 });
    prometheus.set(query('barq-bad'), 0.082);
    await tickUntil('the rollback', finished(op));
    const done = await opOf(op);
    expect(done.state).toBe('failed');
    expect(await traffic('barq-bad')).toEqual({ [v1]: 100 });
    const run = await runOf(op);
    expect(run.state).toBe('rolled_back');
    expect(run.reason).toContain('error rate 8.2 % (result > 0.05) at 50 %');
    // Five failed measurements (more than the 4 allowed) at 50 %: the error rate above 5 % for 5 minutes.
    expect(run.measurements.filter((m) => m.step === 1 && m.phase === 'failed')).toHaveLength(5);
    expect(done.error).toContain(`all traffic back on ${v1}`);
    const final = await until('the rolled-back card', () =>
      current(card).text.includes('ended') ? current(card) : undefined,
    );
    expect(final.text).toContain('error rate 8.2 %');
    expect(JSON.stringify(final.blocks)).toContain(DECLARE_FROM_DEPLOY_ACTION);
    const said = await until('#deployments', async () => {
      const t = (await thread(op)).join('\n');
      return t.includes('the roll-out of') ? t : undefined;
    });
    expect(said).toContain('error rate 8.2 % (result &gt; 0.05) at 50 %');
    expect(await stepAudits(op)).toContain('rolled_back');

    // "Declare incident": the declare form, prefilled.
    const calls = bot.sim.calls.length;
    await bot.slack.clickButton({ message: final, actionId: DECLARE_FROM_DEPLOY_ACTION, userId: 'U_ALICE' });
    const opened = await bot.sim.waitForCall('views.open', { since: calls });
    expect(JSON.stringify(opened.args)).toContain('barq-bad: roll-out of');
    expect(JSON.stringify(opened.args)).toContain('error rate 8.2 %');
  });

  it('a metric that cannot be read pauses and asks a human: Resume, a stranger refused, Abort', async () => {
    const [v1, v2] = await stageOnCloudRun('barq-unread');
    prometheus.set(query('barq-unread'), 'unavailable');
    const { card, op } = await rollOut('barq-unread', v2);
    await tickUntil('the pause', async () => (await runOf(op)).state === 'inconclusive');
    const run = await runOf(op);
    expect(run.reason).toContain('error rate could not be judged at 10 %');
    expect(run.reason).toContain('HTTP 503');
    // Nothing guessed: traffic stays where it was, no timer runs on.
    expect(await traffic('barq-unread')).toEqual({ [v1]: 90, [v2]: 10 });
    expect(await bot.runtime.services.repos.timers.list({ subject: `operation:${op.id}` })).toEqual([]);
    clock.advance(10 * 60_000);
    await bot.runtime.timers.poll();
    expect((await runOf(op)).stepIndex).toBe(0);
    const paused = await until('the paused card', () =>
      JSON.stringify(current(card).blocks).includes(RESUME_ROLLOUT_ACTION) ? current(card) : undefined,
    );
    expect(paused.text).toContain('the analysis could not decide');
    const asked = await until('#deployments', async () =>
      (await thread(op)).find((t) => t.includes('inconclusive')),
    );
    expect(asked).toContain('<@U_ALICE>, a human must decide');

    prometheus.set(query('barq-unread'), 0.001);
    await bot.slack.clickButton({ message: paused, actionId: RESUME_ROLLOUT_ACTION, userId: 'U_ALICE' });
    await until('resumed', async () => ((await runOf(op)).state === 'running' ? true : undefined));
    expect((await runOf(op)).analysisRound).toBe(1);
    await tickUntil('step 2', atStep(op, 1));

    const responses = bot.sim.responses.length;
    const running = await until('the card with Abort', () =>
      JSON.stringify(current(card).blocks).includes(PAUSE_ROLLOUT_ACTION) ? current(card) : undefined,
    );
    // Dan is no approver of production: refused.
    await bot.slack.clickButton({ message: running, actionId: ABORT_ROLLOUT_ACTION, userId: 'U_DAN' });
    expect(await ephemeral(responses)).toContain('Only <@U_ALICE>, who asked for it, or an approver');
    expect((await runOf(op)).state).toBe('running');
    await bot.slack.clickButton({ message: running, actionId: ABORT_ROLLOUT_ACTION, userId: 'U_ALICE' });
    await until('aborted', async () => ((await opOf(op)).state === 'failed' ? true : undefined));
    expect((await runOf(op)).state).toBe('aborted');
    expect(await traffic('barq-unread')).toEqual({ [v1]: 100 });
    expect((await opOf(op)).error).toContain('aborted by <@U_ALICE>');
  });

  it('two replicas polling together shift each step once and take each measurement once', async () => {
    const replica = await startBot(bot);
    extra.push(replica);
    const [v1, v2] = await stageOnCloudRun('barq-replicas');
    const patches = trafficPatches('barq-replicas');
    const { op } = await rollOut('barq-replicas', v2);
    await tickUntil('the end', finished(op), [bot, replica, bot]);
    expect((await opOf(op)).state).toBe('succeeded');
    expect(await traffic('barq-replicas')).toEqual({ [v2]: 100 });
    expect(v1).not.toBe(v2);
    expect(trafficPatches('barq-replicas') - patches).toBe(3);
    expect((await stepAudits(op)).filter((o) => o === 'step')).toHaveLength(3);
    const run = await runOf(op);
    expect(run.measurements).toHaveLength(10);
    noRepeatedMeasurement(run);
    await replica.stop();
  });

  it('a restart in the middle resumes at the right step: none repeated, none skipped', async () => {
    const first = await startBot(bot);
    extra.push(first);
    await first.runtime.timers.stop();
    const [v1, v2] = await stageOnCloudRun('barq-restart');
    const patches = trafficPatches('barq-restart');
    const { op } = await rollOut('barq-restart', v2);
    await tickUntil('step 2', atStep(op, 1), [first]);
    // Two measurements into the 50 % step, the replica that ran it stops.
    for (const _ of [1, 2]) {
      clock.advance(60_000);
      await first.runtime.timers.poll();
    }
    expect(currentRunMeasured(await runOf(op))).toBe(2);
    await first.stop();
    expect(await traffic('barq-restart')).toEqual({ [v1]: 50, [v2]: 50 });

    const second = await startBot(bot);
    extra.push(second);
    await second.runtime.timers.stop();
    await tickUntil('the end', finished(op), [second]);
    expect((await opOf(op)).state).toBe('succeeded');
    expect(trafficPatches('barq-restart') - patches).toBe(3);
    const run = await runOf(op);
    noRepeatedMeasurement(run);
    expect(run.measurements.filter((m) => m.step === 1).map((m) => m.n)).toEqual([1, 2, 3, 4, 5]);
    expect((await stepAudits(op)).filter((o) => o === 'step')).toHaveLength(3);
    await second.stop();
  });

  it('a replica that dies in the middle of a step: another takes the step over once its lease ran out, shifting it once', async () => {
    const other = await startBot(bot);
    extra.push(other);
    await other.runtime.timers.stop();
    const [v1, v2] = await stageOnCloudRun('barq-crash');
    const patches = trafficPatches('barq-crash');
    const { op } = await rollOut('barq-crash', v2);
    await tickUntil('step 1 analysed', async () => (await runOf(op)).measurements.length === 5);
    // The step to 50 % is due; this replica takes it and then hangs in the platform call.
    while ((await runOf(op)).stepIndex === 0) {
      clock.advance(60_000);
      cloudruns.get('barq-crash')!.delayNext(3_000, 'barq-crash');
      let polled = false;
      const hung = bot.runtime.timers.poll().finally(() => {
        polled = true;
      });
      const moved = await until('the step taken', async () => {
        const run = await runOf(op);
        return run.stepIndex === 1 || polled ? run : undefined;
      });
      if (moved.stepIndex !== 1) continue;
      expect(moved.stepApplied).toBe(false);
      // Its lease runs out (timers.lease, 30 s): the other replica runs the step timer again.
      clock.advance(31_000);
      await other.runtime.timers.poll();
      expect((await runOf(op)).stepApplied).toBe(true);
      expect(await traffic('barq-crash')).toEqual({ [v1]: 50, [v2]: 50 });
      await hung;
    }
    await tickUntil('the end', finished(op), [other]);
    expect((await opOf(op)).state).toBe('succeeded');
    expect(trafficPatches('barq-crash') - patches).toBe(3);
    expect((await stepAudits(op)).filter((o) => o === 'step')).toHaveLength(3);
    noRepeatedMeasurement(await runOf(op));
    await other.stop();
  });

  const currentRunMeasured = (run: RolloutRun) =>
    run.measurements.filter((m) => m.step === run.stepIndex).length;

  /** Clicks a roll-out button and returns the bot's ephemeral answer (or undefined when it gave none). */
  async function press(message: SimMessage, actionId: string, userId: string): Promise<string | undefined> {
    const responses = bot.sim.responses.length;
    await bot.slack.clickButton({ message: current(message), actionId, userId });
    const answer = await bot.sim
      .waitForResponse({ since: responses, timeoutMs: 1_500 })
      .catch(() => undefined);
    return answer ? String((answer.body as { text?: string }).text) : undefined;
  }

  const cardText = (card: SimMessage) => JSON.stringify(current(card).blocks ?? []);

  it('an approver reached only through a Slack user group pauses; Promote now in production needs the tech lead and the PM', async () => {
    const answered = bot.sim.responses.length;
    const declared = await bot.slack.slashCommand({
      command: '/incident',
      text: 'declare P2 Checkout is slow',
      userId: 'U_ALICE',
      channelId: 'C_INCIDENTS',
    });
    const incident = await until('the incident', async () => {
      const open = await bot.runtime.services.repos.incidents.listOpen();
      return open.find((i) => i.title === 'Checkout is slow');
    });
    expect(declared.status).toBe(200);
    // Its answer must not be taken for the roll-out's below.
    await bot.sim.waitForResponse({
      since: answered,
      predicate: (r) => String((r.body as { text?: string }).text).includes('declared'),
    });
    const [v1, v2] = await stageOnCloudRun('barq-promote');
    const { card, op } = await rollOut('barq-promote', `${v2} INC-${incident.number}`);
    expect(op.incidentNumber).toBe(incident.number);
    await tickUntil('step 1', atStep(op, 0));
    await until('the card with Pause', () =>
      cardText(card).includes(PAUSE_ROLLOUT_ACTION) ? true : undefined,
    );

    // Bob is a tech lead only as a member of S_ONCALL: he may pause.
    expect(await press(card, PAUSE_ROLLOUT_ACTION, 'U_BOB')).toBeUndefined();
    await until('paused', async () => ((await runOf(op)).state === 'paused' ? true : undefined));
    expect((await runOf(op)).reason).toBe('paused by <@U_BOB>');
    for (let i = 0; i < 15; i++) {
      clock.advance(60_000);
      await bot.runtime.timers.poll();
    }
    expect((await runOf(op)).stepIndex).toBe(0);
    expect(await traffic('barq-promote')).toEqual({ [v1]: 90, [v2]: 10 });
    await until('the paused card', () => (cardText(card).includes(RESUME_ROLLOUT_ACTION) ? true : undefined));

    // The requester's click asks for the promotion; it does not approve it.
    expect(await press(card, PROMOTE_ROLLOUT_ACTION, 'U_ALICE')).toContain('Promote now needs approvals');
    let run = await runOf(op);
    expect(run.stepIndex).toBe(0);
    expect(run.promotion).toMatchObject({ requestedBy: 'U_ALICE', approvals: [] });
    await until('the card asking', () =>
      cardText(card).includes('still needed: tech-lead (<!subteam^S_ONCALL>), pm (<@U_CAROL>)')
        ? true
        : undefined,
    );
    const asked = await until('#deployments asked', async () =>
      (await thread(op)).find((t) => t.includes('Promote now:*')),
    );
    expect(asked).toContain('<@U_CAROL>');
    expect(await press(card, PROMOTE_ROLLOUT_ACTION, 'U_ALICE')).toContain('does not approve its promotion');
    // Dan is in no approver group: refused, nothing changed.
    expect(await press(card, PROMOTE_ROLLOUT_ACTION, 'U_DAN')).toContain('Only <@U_ALICE>, who asked for it');
    expect((await runOf(op)).promotion?.approvals).toEqual([]);

    // The tech lead approves: the card says who did and that a PM is still needed.
    expect(await press(card, PROMOTE_ROLLOUT_ACTION, 'U_BOB')).toContain('still needed: pm (<@U_CAROL>)');
    run = await runOf(op);
    expect(run.stepIndex).toBe(0);
    expect(run.promotion?.approvals.map((a) => [a.approver, a.groups])).toEqual([['U_BOB', ['tech-lead']]]);
    await until('the card with one approval', () =>
      cardText(card).includes('approved by <@U_BOB> (tech-lead) · still needed: pm (<@U_CAROL>)')
        ? true
        : undefined,
    );
    expect(await press(card, PROMOTE_ROLLOUT_ACTION, 'U_BOB')).toContain('already approved');
    expect(await traffic('barq-promote')).toEqual({ [v1]: 90, [v2]: 10 });

    // The PM's approval is the last one needed: straight to 100 %.
    await press(card, PROMOTE_ROLLOUT_ACTION, 'U_CAROL');
    // The shift to 100 % is the step timer's, due at once.
    await until('promoted', async () => {
      await bot.runtime.timers.poll();
      return (await opOf(op)).state === 'succeeded' ? true : undefined;
    });
    expect(await traffic('barq-promote')).toEqual({ [v2]: 100 });
    run = await runOf(op);
    expect(run.reason).toBe('promoted by <@U_CAROL>, approved by <@U_BOB>, <@U_CAROL>');
    const { rows } = await bot.runtime.services.db.query<{
      outcome: string;
      actor: string;
      details: { promotion?: boolean };
    }>('SELECT outcome, actor, details FROM audit_records WHERE operation_id = $1 ORDER BY id', [op.id]);
    const promotion = rows.filter((r) => r.details.promotion === true).map((r) => [r.outcome, r.actor]);
    expect(promotion).toEqual([
      ['requested', 'U_ALICE'],
      ['approved', 'U_BOB'],
      ['approved', 'U_CAROL'],
    ]);
    const audits = rows.map((r) => r.outcome);
    expect(audits).toEqual(expect.arrayContaining(['paused', 'promoted', 'succeeded']));
    expect(audits.filter((o) => o === 'step')).toHaveLength(1);
    expect(rows.find((r) => r.outcome === 'paused')?.actor).toBe('U_BOB');
    const timeline = (await bot.runtime.services.repos.timeline.list(incident.number)).map((e) => e.text);
    expect(timeline).toEqual(
      expect.arrayContaining([
        expect.stringContaining('Asked to promote the roll-out of barq-promote (production)'),
        expect.stringContaining('Approved promoting the roll-out of barq-promote (production)'),
        expect.stringContaining('Promoted the roll-out of barq-promote (production)'),
      ]),
    );
  });

  it('the tech lead and the PM approve Promote now at the same moment on two replicas: both count, it promotes once', async () => {
    const replica = await startBot(bot);
    extra.push(replica);
    await replica.runtime.timers.stop();
    const [, v2] = await stageOnCloudRun('barq-race');
    const { card, op } = await rollOut('barq-race', v2);
    await tickUntil('step 1', atStep(op, 0));
    await until('the card with Promote', () =>
      cardText(card).includes(PROMOTE_ROLLOUT_ACTION) ? true : undefined,
    );
    const patches = trafficPatches('barq-race');
    const message = current(card);
    await Promise.all([
      bot.slack.clickButton({ message, actionId: PROMOTE_ROLLOUT_ACTION, userId: 'U_BOB' }),
      replica.slack.clickButton({ message, actionId: PROMOTE_ROLLOUT_ACTION, userId: 'U_CAROL' }),
    ]);
    // The shift to 100 % is the step timer's, due at once.
    await until('promoted', async () => {
      await bot.runtime.timers.poll();
      return (await opOf(op)).state === 'succeeded' ? true : undefined;
    });
    expect(await traffic('barq-race')).toEqual({ [v2]: 100 });
    expect(trafficPatches('barq-race') - patches).toBe(1);
    const run = await runOf(op);
    expect(run.promotion?.approvals.map((a) => a.approver).sort()).toEqual(['U_BOB', 'U_CAROL']);
    const audits = await stepAudits(op);
    expect(audits.filter((o) => o === 'promoted')).toHaveLength(1);
    expect(audits.filter((o) => o === 'approved')).toHaveLength(4); // two for the start, two for the promotion
    await replica.stop();
  });

  it('in development (no approvals needed) one Promote click goes straight to 100 %', async () => {
    const [, v2] = await stageOnCloudRun('barq-dev');
    const { card, op } = await rollOut('barq-dev', `development ${v2}`, { approvals: false });
    expect(op.environment).toBe('development');
    await tickUntil('step 1', atStep(op, 0));
    await until('the card with Promote', () =>
      cardText(card).includes(PROMOTE_ROLLOUT_ACTION) ? true : undefined,
    );
    await press(card, PROMOTE_ROLLOUT_ACTION, 'U_ALICE');
    // The shift to 100 % is the step timer's, due at once.
    await until('promoted', async () => {
      await bot.runtime.timers.poll();
      return (await opOf(op)).state === 'succeeded' ? true : undefined;
    });
    expect(await traffic('barq-dev')).toEqual({ [v2]: 100 });
    expect((await runOf(op)).promotion).toBeNull();
    expect(await stepAudits(op)).toEqual(expect.arrayContaining(['promoted', 'succeeded']));
  });

  /** The first answer to `/deploy status <name>` (the platform's status, with the roll-out line). */
  async function statusOf(name: string): Promise<string> {
    const since = bot.sim.responses.length;
    await bot.slack.slashCommand({
      command: '/deploy',
      text: `status ${name}`,
      userId: 'U_ALICE',
      channelId: 'C_GENERAL',
    });
    const reply = await bot.sim.waitForResponse({
      since,
      predicate: (r) => String((r.body as { text?: string }).text).includes('*Health:*'),
    });
    return String((reply.body as { text?: string }).text);
  }

  it('/deploy status shows a roll-out in progress: step, percent, state, the next step as a date token, its card', async () => {
    const [v1, v2] = await stageOnCloudRun('barq-status');
    expect(await statusOf('barq-status')).not.toContain('Roll-out in progress');
    const { card, op } = await rollOut('barq-status', v2);
    await tickUntil('step 1', atStep(op, 0));
    const run = await runOf(op);
    const seconds = Math.floor(run.nextStepAt!.getTime() / 1000);
    const link = `<https://slack.com/archives/${card.channel}/p${card.ts.replace('.', '')}|the card>`;
    let status = await statusOf('barq-status');
    expect(status).toContain(
      `*Roll-out in progress:* \`${v2}\` (from \`${v1}\`) · step 1 of 3, 10 % · :arrows_counterclockwise: rolling out · next step 50 % <!date^${seconds}^`,
    );
    expect(status).toContain(`asked by <@U_ALICE> · ${link}`);
    expect(status).toContain(`${v1} 90%, ${v2} 10%`);

    // Paused, with a promotion asked for: the state and who is still needed.
    await until('the card with Pause', () =>
      cardText(card).includes(PAUSE_ROLLOUT_ACTION) ? true : undefined,
    );
    await press(card, PAUSE_ROLLOUT_ACTION, 'U_ALICE');
    await until('paused', async () => ((await runOf(op)).state === 'paused' ? true : undefined));
    await press(card, PROMOTE_ROLLOUT_ACTION, 'U_ALICE');
    status = await statusOf('barq-status');
    expect(status).toContain('step 1 of 3, 10 % · :double_vertical_bar: paused · asked by <@U_ALICE>');
    expect(status).not.toContain('next step');
    expect(status).toContain('*Promote now:* asked by <@U_ALICE> · no approval yet · still needed:');

    await press(card, ABORT_ROLLOUT_ACTION, 'U_ALICE');
    await until('aborted', async () => ((await opOf(op)).state === 'failed' ? true : undefined));
    expect(await statusOf('barq-status')).not.toContain('Roll-out in progress');
  });

  it('App Service: the staging slot takes 25 % through rampUpRules, then a swap at 100 %', async () => {
    const staged = await appservice.stage(V2);
    const { op } = await rollOut('fleet-ok', staged);
    await tickUntil('step 1', atStep(op, 0));
    expect(appservice.site().rampUpRules).toEqual([
      { name: 'staging', actionHostName: 'fleet-ok-staging.azurewebsites.net', reroutePercentage: 25 },
    ]);
    expect(appservice.site().image).toBe(V1);
    await tickUntil('the end', finished(op));
    expect((await opOf(op)).state).toBe('succeeded');
    expect(appservice.site().image).toBe(V2);
    expect(appservice.site().rampUpRules).toEqual([]);
    expect(appservice.site('staging').image).toBe(V1);
    const run = await runOf(op);
    expect(run.measurements.filter((m) => m.metric === 'health').map((m) => [m.value, m.phase])).toEqual([
      ['healthy', 'successful'],
      ['healthy', 'successful'],
    ]);
  });

  it('Kubernetes: refused, with what to do instead, and nothing asked', async () => {
    const since = bot.sim.messagesIn('C_GENERAL').length;
    const text = await answerTo('rollout architect-api 7');
    expect(text).toContain('Gradual roll-outs are not supported on architect-api');
    expect(text).toContain('/deploy rollback');
    expect(bot.sim.messagesIn('C_GENERAL').slice(since)).toHaveLength(0);
  });

  it('bad steps are answered with how to write them', async () => {
    expect(await answerTo('rollout barq-ok abc --steps 50,10')).toContain('--steps 10,50,100');
    expect(await answerTo('rollout barq-ok abc --interval soon')).toContain('--interval 5m');
  });
});
