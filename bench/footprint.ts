/**
 * Footprint: start-up time (spawn → first 200 from GET /health) and resident memory after start-up of
 * the bot in its two modes, against a bare Bolt app (bench/lib/bare-bolt.ts) started the same way in the
 * same run, one process at a time so that no start-up competes with another for CPU.
 *
 *   npm run bench:footprint -- [--runs 3] [--database-url URL] [--redis-url URL] [--keep-logs]
 *                              [--node-flags="--heap-prof --heap-prof-dir=/tmp/prof"]
 *
 * - `postgres`: the bot with DATABASE_URL and REDIS_URL (what replicas run), against the bench's Slack
 *   simulator. Targets: start-up ≤ 3× and RSS ≤ 1.7× the bare Bolt app's medians.
 * - `pglite`: `npm start` as a newcomer meets it, in a directory with no runbook.yml: no Slack
 *   credentials (local mode: the built-in Slack simulator, the example config with its services on the
 *   built-in platform simulators), embedded PGlite in ./data, kept between runs. The first run (which creates the
 *   database) is reported apart; targets on the later runs: start-up ≤ 2.5 s and RSS ≤ 300 MB.
 *
 * The bot starts the way `npm start` starts it (the `start` script of package.json: `node` and its
 * flags); the bare Bolt app as `node bench/lib/bare-bolt.ts`. Medians of `--runs` starts each; RSS is
 * read 1 s after the first 200 (start-up's garbage settled), and the peak (VmHWM) just before it stops.
 * Both modes use the shipped runbook.example.yml (services on all three clouds). `--node-flags` are
 * added to every process measured (e.g. `--heap-prof` or `--cpu-prof` with a `-dir`, to find where the
 * memory and time go); such a diagnostic run writes no results. The apps' logs go to a temp dir,
 * removed at the end unless --keep-logs. Writes bench/results/footprint.json; exits 1 when a target
 * is missed.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startSlackSimulator } from '../src/local/slack/server.ts';
import { freePort, startTargetProcess } from './lib/child.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const NODE = join(ROOT, 'node_modules/.bin/node');
const RESULTS = new URL('./results/footprint.json', import.meta.url);
const TARGETS = { startupRatio: 3, rssRatio: 1.7, pgliteStartupMs: 2_500, pgliteRssMb: 300 };

const { values: flags } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    'database-url': { type: 'string', default: process.env.DATABASE_URL ?? '' },
    'redis-url': { type: 'string', default: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' },
    'keep-logs': { type: 'boolean', default: false },
    'node-flags': { type: 'string', default: '' },
  },
});
const runs = Math.max(1, Number.parseInt(flags.runs, 10) || 3);

/** A database of the bench's own (the bot migrates what it is given). */
async function benchDatabaseUrl(): Promise<string> {
  if (flags['database-url']) return flags['database-url'];
  const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
  await admin.connect();
  try {
    const { rowCount } = await admin.query("SELECT 1 FROM pg_database WHERE datname = 'runbook_bench'");
    if (!rowCount) await admin.query('CREATE DATABASE runbook_bench');
  } finally {
    await admin.end();
  }
  return 'postgres://postgres@127.0.0.1:5432/runbook_bench';
}

/** `node <flags> src/main.ts` from package.json's start script: the bot is measured as users start it. */
function startCommand(): string[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } };
  const [node, ...args] = pkg.scripts.start.trim().split(/\s+/);
  if (node !== 'node' || args.at(-1) !== 'src/main.ts') {
    throw new Error(
      `cannot measure the start script "${pkg.scripts.start}": expected node [flags] src/main.ts`,
    );
  }
  // Absolute: the PGlite mode runs in a directory of its own.
  return [...args.slice(0, -1), join(ROOT, 'src/main.ts')];
}

interface Sample {
  startupMs: number;
  /** 1 s after the first 200. */
  rssMb: number;
  /** VmHWM: the most it was resident at any moment, start-up included. */
  peakRssMb: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

async function measure(
  name: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  workDir: string,
  cwd = ROOT,
): Promise<Sample> {
  const port = await freePort();
  const target = await startTargetProcess({
    name,
    nodePath: NODE,
    args,
    cwd,
    port,
    logPath: join(workDir, `${name}.log`),
    env: { ...env, PORT: String(port) },
  });
  // Let start-up's garbage settle the way a running replica's would.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const sample = {
    startupMs: Math.round(target.startupMs),
    rssMb: Math.round(target.rssBytes() / 2 ** 20),
    peakRssMb: Math.round(target.peakRssBytes() / 2 ** 20),
  };
  await target.stop();
  return sample;
}

const loadAtStart = loadavg()[0] ?? 0;
const workDir = mkdtempSync(join(tmpdir(), 'runbook-footprint-'));
const sim = await startSlackSimulator();
let exitCode = 0;
try {
  const slackEnv = {
    SLACK_BOT_TOKEN: sim.botToken,
    SLACK_SIGNING_SECRET: randomBytes(16).toString('hex'),
    SLACK_API_URL: sim.apiUrl,
  };
  const base: NodeJS.ProcessEnv = {
    ...process.env,
    LOG_LEVEL: 'warn',
    SLACK_APP_TOKEN: '',
  };
  delete base.DATABASE_URL;
  delete base.REDIS_URL;
  delete base.SLACK_BOT_TOKEN;
  delete base.SLACK_SIGNING_SECRET;
  delete base.METRICS_PORT;
  delete base.METRICS_TOKEN;
  delete base.RUNBOOK_CONFIG;
  delete base.RUNBOOK_DATA_DIR;
  const exampleConfig = { RUNBOOK_CONFIG: join(ROOT, 'runbook.example.yml') };
  const nodeFlags = flags['node-flags'].split(' ').filter(Boolean);
  const bot = [...nodeFlags, ...startCommand()];
  const databaseUrl = await benchDatabaseUrl();
  // A newcomer's directory: no runbook.yml, ./data created by the first run.
  const newcomer = join(workDir, 'newcomer');
  mkdirSync(newcomer, { recursive: true });

  const samples = { bare: [] as Sample[], postgres: [] as Sample[], pglite: [] as Sample[] };
  const pgliteFirst = await measure('pglite-first', bot, base, workDir, newcomer);
  for (let i = 0; i < runs; i++) {
    samples.bare.push(
      await measure('bare-bolt', [...nodeFlags, 'bench/lib/bare-bolt.ts'], { ...base, ...slackEnv }, workDir),
    );
    samples.postgres.push(
      await measure(
        'postgres',
        bot,
        { ...base, ...exampleConfig, ...slackEnv, DATABASE_URL: databaseUrl, REDIS_URL: flags['redis-url'] },
        workDir,
      ),
    );
    samples.pglite.push(await measure('pglite', bot, base, workDir, newcomer));
  }
  const summary = Object.fromEntries(
    Object.entries(samples).map(([k, v]) => [
      k,
      {
        startupMs: median(v.map((s) => s.startupMs)),
        rssMb: median(v.map((s) => s.rssMb)),
        peakRssMb: median(v.map((s) => s.peakRssMb)),
        samples: v,
      },
    ]),
  ) as Record<keyof typeof samples, Sample & { samples: Sample[] }>;
  const startupRatio = +(summary.postgres.startupMs / summary.bare.startupMs).toFixed(2);
  const rssRatio = +(summary.postgres.rssMb / summary.bare.rssMb).toFixed(2);
  const checks = {
    postgresStartup: {
      value: startupRatio,
      target: `≤ ${TARGETS.startupRatio}× bare`,
      met: startupRatio <= TARGETS.startupRatio,
    },
    postgresRss: {
      value: rssRatio,
      target: `≤ ${TARGETS.rssRatio}× bare`,
      met: rssRatio <= TARGETS.rssRatio,
    },
    pgliteStartup: {
      value: summary.pglite.startupMs,
      target: `≤ ${TARGETS.pgliteStartupMs} ms`,
      met: summary.pglite.startupMs <= TARGETS.pgliteStartupMs,
    },
    pgliteRss: {
      value: summary.pglite.rssMb,
      target: `≤ ${TARGETS.pgliteRssMb} MB`,
      met: summary.pglite.rssMb <= TARGETS.pgliteRssMb,
    },
  };
  const figures = {
    at: new Date().toISOString(),
    node: process.version,
    cores: availableParallelism(),
    /** 1-minute load average when the run started and when it ended (the machine may be shared). */
    loadAverage1m: { atStart: loadAtStart, atEnd: loadavg()[0] ?? 0 },
    runs,
    commands: {
      bot: `node ${bot.join(' ')}`,
      bare: `node ${[...nodeFlags, 'bench/lib/bare-bolt.ts'].join(' ')}`,
    },
    bare: summary.bare,
    postgres: summary.postgres,
    pgliteFirstRun: pgliteFirst,
    pglite: summary.pglite,
    ratios: { startup: startupRatio, rss: rssRatio },
    checks,
  };
  if (nodeFlags.length === 0) {
    mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
    writeFileSync(RESULTS, `${JSON.stringify(figures, null, 2)}\n`);
  }

  const row = (name: string, s: Sample) =>
    console.log(
      `${name.padEnd(24)} start-up ${String(s.startupMs).padStart(6)} ms   RSS ${String(s.rssMb).padStart(5)} MB` +
        `   peak ${String(s.peakRssMb).padStart(5)} MB`,
    );
  console.log(
    `footprint: medians of ${runs} starts each, ${figures.cores} cores, load ${figures.loadAverage1m.atStart.toFixed(2)} → ${figures.loadAverage1m.atEnd.toFixed(2)}`,
  );
  row('bare Bolt', summary.bare);
  row('bot, Postgres + Redis', summary.postgres);
  row('bot, PGlite (first run)', pgliteFirst);
  row('bot, PGlite', summary.pglite);
  for (const [name, c] of Object.entries(checks)) {
    console.log(
      `${name.padEnd(16)} ${String(c.value).padStart(7)}  target ${c.target}: ${c.met ? 'MET' : 'NOT MET'}`,
    );
    if (!c.met) exitCode = 1;
  }
  console.log(
    nodeFlags.length === 0
      ? 'results written to bench/results/footprint.json'
      : 'diagnostic run: no results written',
  );
} catch (error) {
  console.error(`footprint: ${error instanceof Error ? error.message : String(error)}`);
  exitCode = 1;
} finally {
  await sim.close();
  if (flags['keep-logs']) console.log(`logs kept in ${workDir}`);
  else rmSync(workDir, { recursive: true, force: true });
}
process.exit(exitCode);
