/**
 * Health-check fan-out: 50 HTTP checks against local servers, one of which hangs past its 3 s
 * timeout. Runs them in parallel (as the bot does) and one by one, and compares the parallel
 * wall time with the sum of the sequential run. Target: wall ≤ 1.1 × the longest timeout.
 *
 *   node bench/health-fanout.ts
 *
 * Writes bench/results/health-fanout.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type HealthCheckConfig, healthCheckSchema } from '../src/config/schema.ts';
import { runChecks } from '../src/health/runner.ts';
import type { CheckResult } from '../src/health/types.ts';

const CHECKS = 50;
const SERVERS = 5;
const TIMEOUT_MS = 3_000;
const HANGING_CHECK = 17;

async function startServer(index: number): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url === '/hang/health') return; // never answers
    // Each endpoint answers after 10–60 ms, like a real /health doing a SELECT 1 and a PING.
    const delay = 10 + ((index * 13 + Number(req.url?.split('/')[1] ?? 0) * 7) % 51);
    setTimeout(() => {
      const body = JSON.stringify({
        status: 'healthy',
        checks: { database: { status: 'ok', latency: delay } },
      });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(body);
    }, delay);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

const servers = await Promise.all(Array.from({ length: SERVERS }, (_, i) => startServer(i)));
const ports = servers.map((s) => (s.address() as AddressInfo).port);

const checks: HealthCheckConfig[] = Array.from({ length: CHECKS }, (_, i) =>
  healthCheckSchema.parse({
    name: `check-${i}`,
    type: 'http',
    url: `http://127.0.0.1:${ports[i % SERVERS]}/${i === HANGING_CHECK ? 'hang' : i}/health`,
    timeout: TIMEOUT_MS,
  }),
);
const longestTimeoutMs = TIMEOUT_MS;
const env = {};

const parallelStart = performance.now();
const parallel = await runChecks(checks, { env, deadlineMs: 10_000 });
const parallelWallMs = performance.now() - parallelStart;

let sequentialSumMs = 0;
const sequential: (CheckResult | undefined)[] = [];
for (const check of checks) {
  const start = performance.now();
  const [result] = await runChecks([check], { env, deadlineMs: 10_000 });
  sequentialSumMs += performance.now() - start;
  sequential.push(result);
}

for (const server of servers) {
  server.closeAllConnections();
  server.close();
}

const count = (results: (CheckResult | undefined)[]) => ({
  healthy: results.filter((r) => r?.status === 'healthy').length,
  unhealthy: results.filter((r) => r?.status === 'unhealthy').length,
  degraded: results.filter((r) => r?.status === 'degraded').length,
});
const targetMs = Math.round(1.1 * longestTimeoutMs);
const met = parallelWallMs <= targetMs;
const round = (ms: number) => Math.round(ms * 10) / 10;

const figures = {
  benchmark: 'health-fanout',
  ranAt: new Date().toISOString(),
  node: process.version,
  checks: CHECKS,
  servers: SERVERS,
  hangingChecks: 1,
  longestTimeoutMs,
  parallelWallMs: round(parallelWallMs),
  sequentialSumMs: round(sequentialSumMs),
  speedup: round(sequentialSumMs / parallelWallMs),
  targetMs,
  targetMet: met,
  hungCheckReason: parallel[HANGING_CHECK]?.reason,
  parallelStatuses: count(parallel),
  sequentialStatuses: count(sequential),
};

mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(
  new URL('./results/health-fanout.json', import.meta.url),
  `${JSON.stringify(figures, null, 2)}\n`,
);

console.log(`health fan-out: ${CHECKS} checks, one hanging past a ${longestTimeoutMs} ms timeout`);
console.log(`  parallel wall time   ${figures.parallelWallMs} ms`);
console.log(`  sequential sum       ${figures.sequentialSumMs} ms  (${figures.speedup}× the parallel run)`);
console.log(
  `  target               wall ≤ 1.1 × ${longestTimeoutMs} ms = ${targetMs} ms: ${met ? 'MET' : 'NOT MET'}`,
);
console.log(`  hung check           ${figures.hungCheckReason}`);
console.log('  results written to   bench/results/health-fanout.json');
if (!met) process.exitCode = 1;
