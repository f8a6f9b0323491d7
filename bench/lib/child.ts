/**
 * Runs a server under test as its own process and measures it the same way for every target:
 * start-up time (spawn → first 200 from GET /health, polled every 10 ms) and resident memory
 * (VmRSS from /proc/<pid>/status).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface TargetProcessOptions {
  /** Short name for messages (`bot`, `bare-bolt`). */
  name: string;
  /** Node executable (Node 24: node_modules/.bin/node). */
  nodePath: string;
  /** Script and arguments, e.g. ['src/main.ts']. */
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  port: number;
  /** stdout and stderr of the child go here (like a container's log), not through the bench. */
  logPath: string;
  /** Give up waiting for /health after this long (default 60 s). */
  startupTimeoutMs?: number;
}

export interface TargetProcess {
  name: string;
  pid: number;
  port: number;
  baseUrl: string;
  /** Spawn → first 200 from GET /health. */
  startupMs: number;
  /** VmRSS right after start-up, in bytes. */
  rssAfterStartupBytes: number;
  logPath: string;
  /** Current VmRSS in bytes. */
  rssBytes(): number;
  /** Peak VmRSS so far (VmHWM) in bytes. */
  peakRssBytes(): number;
  /** CPU time used so far (user + system), ms. */
  cpuMs(): number;
  /** SIGTERM, then SIGKILL after 10 s. */
  stop(): Promise<void>;
}

export class TargetStartError extends Error {
  override name = 'TargetStartError';
}

const HEALTH_POLL_MS = 10;

/** A free TCP port on 127.0.0.1 (listen on 0, read it, close). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('could not read a free port');
  return address.port;
}

/** VmRSS of a process, in bytes, from /proc/<pid>/status. */
export function readRssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!match?.[1]) throw new Error(`no VmRSS line in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

/** Peak resident memory (VmHWM) of a process so far, in bytes. */
export function readPeakRssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmHWM:\s+(\d+)\s+kB$/m.exec(status);
  if (!match?.[1]) throw new Error(`no VmHWM line in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

/**
 * CPU time (user + system) a process has used so far, in ms, from /proc/<pid>/stat. The kernel reports
 * it in USER_HZ ticks, which Linux fixes at 100 per second for /proc whatever the kernel's HZ.
 */
export function readCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at state, field 3: utime is 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`unreadable /proc/${pid}/stat`);
  return (utime + stime) * 10;
}

/** Status code of GET url, or undefined when nothing answered (yet). */
function probe(url: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = request(url, { method: 'GET', agent: false, timeout: 1_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
      res.on('error', () => resolve(undefined));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

function logTail(path: string, lines = 15): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export async function startTargetProcess(options: TargetProcessOptions): Promise<TargetProcess> {
  const logFd = openSync(options.logPath, 'w');
  const baseUrl = `http://127.0.0.1:${options.port}`;
  const healthUrl = `${baseUrl}/health`;
  const spawnedAt = performance.now();
  const child: ChildProcess = spawn(options.nodePath, options.args, {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', logFd, logFd],
  });
  closeSync(logFd);
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      resolve();
    });
  });
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));

  const stop = async (): Promise<void> => {
    if (exit) return;
    child.kill('SIGTERM');
    const killed = await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]);
    if (!killed) {
      child.kill('SIGKILL');
      await exited;
    }
  };

  const deadline = spawnedAt + (options.startupTimeoutMs ?? 60_000);
  let failure: string | undefined;
  for (;;) {
    const status = await Promise.race([probe(healthUrl), spawnError.then((e) => e)]);
    if (status === 200) break;
    if (status instanceof Error) failure = `could not spawn ${options.nodePath}: ${status.message}`;
    else if (exit) failure = `exited during start-up (code ${exit.code}, signal ${exit.signal})`;
    else if (performance.now() > deadline) failure = `GET /health did not answer 200 within the time-out`;
    if (failure) break;
    await sleep(HEALTH_POLL_MS);
  }
  const startupMs = performance.now() - spawnedAt;
  if (failure || child.pid === undefined) {
    await stop();
    throw new TargetStartError(
      `${options.name}: ${failure ?? 'no pid'}; last lines of ${options.logPath}:\n${logTail(options.logPath)}`,
    );
  }
  const pid = child.pid;
  return {
    name: options.name,
    pid,
    port: options.port,
    baseUrl,
    startupMs,
    rssAfterStartupBytes: readRssBytes(pid),
    logPath: options.logPath,
    rssBytes: () => readRssBytes(pid),
    peakRssBytes: () => readPeakRssBytes(pid),
    cpuMs: () => readCpuMs(pid),
    stop,
  };
}
