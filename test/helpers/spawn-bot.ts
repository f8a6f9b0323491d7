/** Runs the real bot in a child process (test/helpers/bot-process.ts), to kill it or SIGTERM it. */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { SlackSimulator } from '../../src/local/slack/server.ts';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from './services.ts';

export interface BotProcess {
  url: string;
  child: ChildProcess;
  /** Everything it wrote (JSON log lines), for failure messages. */
  output: string[];
  /** Sends the signal and waits for the process to end. */
  signal(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export async function spawnBotProcess(options: {
  sim: SlackSimulator;
  schema: string;
  keyPrefix: string;
  signingSecret: string;
  configPath: string;
  /** Node options of the child (e.g. `--import` a hook). */
  execArgv?: string[];
  /** More environment. */
  env?: Record<string, string>;
}): Promise<BotProcess> {
  const output: string[] = [];
  const child = fork(fileURLToPath(new URL('./bot-process.ts', import.meta.url)), [], {
    execArgv: options.execArgv ?? [],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: {
      ...process.env,
      SLACK_BOT_TOKEN: options.sim.botToken,
      SLACK_SIGNING_SECRET: options.signingSecret,
      SLACK_API_URL: options.sim.apiUrl,
      PORT: '0',
      DATABASE_URL: TEST_DATABASE_URL,
      REDIS_URL: TEST_REDIS_URL,
      RUNBOOK_CONFIG: options.configPath,
      LOG_LEVEL: 'info',
      TEST_DB_SCHEMA: options.schema,
      TEST_KEY_PREFIX: options.keyPrefix,
      ...options.env,
    },
  });
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`bot process not ready:\n${output.join('')}`)), 20_000);
    child.on('message', (message: { ready?: string }) => {
      if (!message.ready) return;
      clearTimeout(timer);
      resolve(message.ready);
    });
    exited.then(([code]) => {
      clearTimeout(timer);
      reject(new Error(`bot process exited (${code}) before it was ready:\n${output.join('')}`));
    });
  });
  return {
    url,
    child,
    output,
    async signal(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const [code, by] = await exited;
      return { code, signal: by };
    },
  };
}
