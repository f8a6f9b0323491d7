/**
 * Ack latency: signed slash commands at a fixed rate against the bot and, in the same run, against a
 * bare Bolt app that only acks (bench/lib/bare-bolt.ts). Both run as their own processes, measured the
 * same way. Prints p50/p90/p99/max of both, the ratio of the p99s, start-up time (spawn → first 200
 * from GET /health) and RSS after start-up. Targets: p99 ratio ≤ 1.3 and bot p99 < 50 ms.
 *
 *   npm run bench:ack -- [--rate 200] [--seconds 20] [--warmup 2] [--slice-ms 1000] [--deploy]
 *                        [--database-url URL|pglite] [--redis-url URL|memory] [--log-level info] [--keep-logs]
 *                        [--bot-node-flags "--trace-gc --cpu-prof"]   (to find where the bot's time goes)
 *
 * Rate and seconds also come from BENCH_RATE / BENCH_SECONDS. The bot's store and coordination default
 * to what production would use: DATABASE_URL / REDIS_URL from the environment when set, else the
 * embedded ones (PGlite in a temp dir, in-process coordination). Slack is the in-repo simulator, started
 * here; both apps use it for their Web API calls (Bolt's auth.test). A Postgres URL is used as given: the
 * bot migrates that database as it would in production, so give it a database of its own. The apps'
 * logs go to a temp dir, removed at the end unless --keep-logs.
 *
 * Writes bench/results/ack-latency.json. Exits 1 when a target is missed.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { buildSlashCommandBody, type TeamIdentity } from '../src/local/slack/payloads.ts';
import { startSlackSimulator } from '../src/local/slack/server.ts';
import { freePort, startTargetProcess, type TargetProcess } from './lib/child.ts';
import { type LoadTarget, runAlternatingOpenLoop, type SlashCommandLine } from './lib/load.ts';
import { percentile, round, summarize } from './lib/stats.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const NODE = join(ROOT, 'node_modules/.bin/node');
const RESULTS = new URL('./results/ack-latency.json', import.meta.url);
const TARGET_P99_RATIO = 1.3;
const TARGET_P99_MS = 50;
const MB = 1024 * 1024;

const { values: flags } = parseArgs({
  options: {
    rate: { type: 'string' },
    seconds: { type: 'string' },
    warmup: { type: 'string' },
    'slice-ms': { type: 'string' },
    deploy: { type: 'boolean', default: false },
    'database-url': { type: 'string' },
    'redis-url': { type: 'string' },
    'log-level': { type: 'string' },
    'keep-logs': { type: 'boolean', default: false },
    'bot-node-flags': { type: 'string', default: '' },
    help: { type: 'boolean', default: false },
  },
});
if (flags.help) {
  console.log(
    'usage: node bench/ack-latency.ts [--rate 200] [--seconds 20] [--warmup 2] [--slice-ms 1000] [--deploy]\n' +
      '         [--database-url URL|pglite] [--redis-url URL|memory] [--log-level info] [--keep-logs]\n' +
      '         [--bot-node-flags "--trace-gc --cpu-prof"]',
  );
  process.exit(0);
}

/** "pglite"/"memory"/"" mean the embedded backend: the bot reads an empty variable as unset. */
const backendUrl = (value: string | undefined, embedded: string): string =>
  value === undefined || value === embedded ? '' : value;

const settings = z
  .object({
    rate: z.coerce.number().positive().max(5_000),
    seconds: z.coerce.number().positive().max(600),
    warmupSeconds: z.coerce.number().min(0).max(60),
    sliceMs: z.coerce.number().int().min(50).max(60_000),
    deploy: z.boolean(),
    databaseUrl: z.string(),
    redisUrl: z.string(),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  })
  .parse({
    rate: flags.rate ?? process.env.BENCH_RATE ?? 200,
    seconds: flags.seconds ?? process.env.BENCH_SECONDS ?? 20,
    warmupSeconds: flags.warmup ?? 2,
    sliceMs: flags['slice-ms'] ?? 1_000,
    deploy: flags.deploy,
    databaseUrl: backendUrl(flags['database-url'] ?? process.env.DATABASE_URL, 'pglite'),
    redisUrl: backendUrl(flags['redis-url'] ?? process.env.REDIS_URL, 'memory'),
    logLevel: flags['log-level'] ?? process.env.LOG_LEVEL ?? 'info',
  });

const commands: SlashCommandLine[] = [{ command: '/incident', text: 'help' }];
if (settings.deploy) commands.push({ command: '/deploy', text: 'help' });

const sim = await startSlackSimulator();
const workDir = mkdtempSync(join(tmpdir(), 'ack-latency-'));
const signingSecret = randomBytes(16).toString('hex');
const slackEnv = {
  SLACK_BOT_TOKEN: sim.botToken,
  SLACK_SIGNING_SECRET: signingSecret,
  SLACK_API_URL: sim.apiUrl,
  SLACK_APP_TOKEN: '',
};
const team: TeamIdentity = {
  teamId: sim.workspace.team.id,
  teamDomain: sim.workspace.team.domain,
  apiAppId: sim.workspace.bot.appId,
  verificationToken: sim.verificationToken,
};
const user = { id: 'U_ALICE', name: 'alice' };
const channelId = sim.defaultChannelId;

const processes: TargetProcess[] = [];
let exitCode = 0;
try {
  // One after the other, so neither start-up competes with the other for CPU.
  const botPort = await freePort();
  const bot = await startTargetProcess({
    name: 'bot',
    nodePath: NODE,
    args: [...flags['bot-node-flags'].split(' ').filter(Boolean), 'src/main.ts'],
    cwd: ROOT,
    port: botPort,
    logPath: join(workDir, 'bot.log'),
    env: {
      ...process.env,
      ...slackEnv,
      DATABASE_URL: settings.databaseUrl,
      REDIS_URL: settings.redisUrl,
      RUNBOOK_DATA_DIR: join(workDir, 'data'),
      LOG_LEVEL: settings.logLevel,
      PORT: String(botPort),
    },
  });
  processes.push(bot);
  const barePort = await freePort();
  const bare = await startTargetProcess({
    name: 'bare-bolt',
    nodePath: NODE,
    args: ['bench/lib/bare-bolt.ts'],
    cwd: ROOT,
    port: barePort,
    logPath: join(workDir, 'bare-bolt.log'),
    env: { ...process.env, ...slackEnv, PORT: String(barePort) },
  });
  processes.push(bare);

  const targets: LoadTarget[] = processes.map((p) => ({
    name: p.name,
    eventsUrl: `${p.baseUrl}/slack/events`,
    signingSecret,
  }));
  const loadAverageBefore = loadavg();
  const cpuBefore = new Map(processes.map((p) => [p.name, p.cpuMs()]));
  const load = await runAlternatingOpenLoop({
    targets,
    commands,
    rate: settings.rate,
    measureMs: settings.seconds * 1000,
    warmupMs: settings.warmupSeconds * 1000,
    sliceMs: settings.sliceMs,
    requestTimeoutMs: 5_000,
    buildBody: (_target, line) =>
      buildSlashCommandBody({
        team,
        user,
        channelId,
        channelName: 'incidents',
        command: line.command,
        text: line.text,
        responseUrl: sim.responseUrl({ channelId, userId: user.id, source: 'command' }),
        triggerId: sim.mintTriggerId({ userId: user.id }),
      }),
  });
  const rssAfterLoad = new Map(processes.map((p) => [p.name, p.rssBytes()]));
  // CPU per request does not depend on what else runs on the machine, unlike latency: it shows the
  // ack path's own cost even when neighbours make the latencies noisy.
  const cpuMsPerRequest = (p: TargetProcess): number =>
    round((p.cpuMs() - (cpuBefore.get(p.name) ?? 0)) / (load.sentPerTarget.get(p.name) ?? Number.NaN), 3);
  const loadAverageAfter = loadavg();

  const series = load.series.map((s) => ({
    target: s.target,
    command: s.command,
    ...summarize(s.latenciesMs, s.errors, load.measuredMsPerTarget),
    ackBytes: s.firstAckBytes ?? null,
    ackContentType: s.firstAckContentType ?? null,
    errorSamples: s.errorSamples,
  }));
  const find = (target: string, command: string) =>
    series.find((s) => s.target === target && s.command === command);
  const ratios = commands.map((line) => {
    const command = `${line.command} ${line.text}`;
    const ours = find('bot', command);
    const baseline = find('bare-bolt', command);
    return {
      command,
      p50: round((ours?.p50 ?? Number.NaN) / (baseline?.p50 ?? Number.NaN)),
      p99: round((ours?.p99 ?? Number.NaN) / (baseline?.p99 ?? Number.NaN)),
    };
  });
  const primary = ratios[0]!;
  const botPrimary = find('bot', primary.command);
  const errors = series.reduce((sum, s) => sum + s.errors, 0);
  const ratioMet = primary.p99 <= TARGET_P99_RATIO;
  const p99Met = (botPrimary?.p99 ?? Number.POSITIVE_INFINITY) < TARGET_P99_MS;
  const sortedLag = [...load.generatorLagMs].sort((a, b) => a - b);

  const figures = {
    benchmark: 'ack-latency',
    ranAt: new Date().toISOString(),
    node: process.version,
    cores: availableParallelism(),
    cpu: cpus()[0]?.model ?? 'unknown',
    /** 1-minute load average before and after the load phase: other work on the machine skews latencies. */
    loadAverage1m: { before: round(loadAverageBefore[0] ?? 0), after: round(loadAverageAfter[0] ?? 0) },
    settings: {
      ratePerSecond: settings.rate,
      secondsPerTarget: settings.seconds,
      warmupSecondsPerTarget: settings.warmupSeconds,
      sliceMs: settings.sliceMs,
      schedule: 'open loop; targets alternate in slices',
      commands: commands.map((c) => `${c.command} ${c.text}`),
      database: settings.databaseUrl === '' ? 'pglite' : 'postgres',
      coordination: settings.redisUrl === '' ? 'memory' : 'redis',
      botLogLevel: settings.logLevel,
    },
    processes: processes.map((p) => ({
      target: p.name,
      startupMs: round(p.startupMs, 1),
      rssAfterStartupMb: round(p.rssAfterStartupBytes / MB, 1),
      rssAfterLoadMb: round((rssAfterLoad.get(p.name) ?? Number.NaN) / MB, 1),
      cpuMsPerRequest: cpuMsPerRequest(p),
    })),
    series,
    ratios,
    generatorLagMs: { p50: round(percentile(sortedLag, 50)), p99: round(percentile(sortedLag, 99)) },
    wallSeconds: round(load.wallMs / 1000, 1),
    targets: {
      p99Ratio: { limit: TARGET_P99_RATIO, value: primary.p99, met: ratioMet },
      botP99Ms: { limit: TARGET_P99_MS, value: botPrimary?.p99 ?? null, met: p99Met },
      noErrors: { value: errors, met: errors === 0 },
    },
  };

  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(RESULTS, `${JSON.stringify(figures, null, 2)}\n`);

  const cell = (v: string | number, width: number) => String(v).padStart(width);
  console.log(
    `ack latency: ${commands.map((c) => `${c.command} ${c.text}`).join(' + ')} at ${settings.rate}/s, ` +
      `${settings.seconds} s per target (+${settings.warmupSeconds} s warm-up), alternating ${settings.sliceMs} ms slices; ` +
      `bot on ${figures.settings.database} + ${figures.settings.coordination}, LOG_LEVEL=${settings.logLevel}`,
  );
  console.log(
    `${'target'.padEnd(10)} ${'series'.padEnd(15)}${cell('p50', 8)}${cell('p90', 8)}${cell('p99', 8)}${cell('max', 8)}` +
      `${cell('errors', 8)}${cell('rate/s', 9)}${cell('ack B', 8)}`,
  );
  for (const s of series) {
    console.log(
      `${s.target.padEnd(10)} ${s.command.padEnd(15)}${cell(s.p50, 8)}${cell(s.p90, 8)}${cell(s.p99, 8)}` +
        `${cell(s.max, 8)}${cell(s.errors, 8)}${cell(s.achievedRate, 9)}${cell(s.ackBytes ?? '-', 8)}`,
    );
    for (const sample of s.errorSamples) console.log(`    error: ${sample}`);
  }
  console.log('  (latencies in ms: request written → whole answer read)');
  for (const r of ratios) console.log(`ratio bot/bare ${r.command}: p50 ${r.p50}×, p99 ${r.p99}×`);
  console.log(
    `target p99 ratio ≤ ${TARGET_P99_RATIO}: ${ratioMet ? 'MET' : 'NOT MET'} (${primary.p99}); ` +
      `bot p99 < ${TARGET_P99_MS} ms: ${p99Met ? 'MET' : 'NOT MET'} (${botPrimary?.p99} ms); errors: ${errors}`,
  );
  for (const p of figures.processes) {
    console.log(
      `${p.target.padEnd(10)} start-up ${p.startupMs} ms, RSS ${p.rssAfterStartupMb} MB after start-up, ` +
        `${p.rssAfterLoadMb} MB after load; CPU ${p.cpuMsPerRequest} ms per request`,
    );
  }
  console.log(
    `generator lag p50 ${figures.generatorLagMs.p50} ms, p99 ${figures.generatorLagMs.p99} ms; ` +
      `load average ${figures.loadAverage1m.before} → ${figures.loadAverage1m.after} on ${figures.cores} cores; ` +
      `wall ${figures.wallSeconds} s; results written to bench/results/ack-latency.json`,
  );
  if (!ratioMet || !p99Met || errors > 0) exitCode = 1;
} catch (error) {
  console.error(`ack-latency: ${error instanceof Error ? error.message : String(error)}`);
  exitCode = 1;
} finally {
  for (const p of processes.reverse()) await p.stop();
  await sim.close();
  if (flags['keep-logs']) console.log(`logs kept in ${workDir}`);
  else rmSync(workDir, { recursive: true, force: true });
}
process.exit(exitCode);
