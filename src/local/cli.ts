/**
 * `npm run slack -- "/incident help"` — talk to the bot running in local mode
 * (no Slack workspace): sends a signed slash command like Slack would, then
 * prints what the bot answered (HTTP ack, response_url posts, messages,
 * ephemeral messages, modals) as the Slack simulator recorded it.
 *
 *   npm run slack -- "/incident declare db is down" [--user U_BOB] [--channel #incidents]
 *   npm run slack -- click <action_id> [--select <option value|user id>] [--user U_BOB]
 *   npm run slack -- submit <callback_id|view_id> block=value [block.action=value …]
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { type RenderOptions, renderSlackMessage, renderSlackView } from './render.ts';
import { interactiveElements } from './slack/blocks.ts';
import { type SlackHttpResult, SlackRequestClient } from './slack/client.ts';
import { remoteLink, type WorkspaceInfo } from './slack/link.ts';
import type { SelectionInput } from './slack/payloads.ts';

export const localModeStateSchema = z.object({
  botUrl: z.string().url(),
  signingSecret: z.string().min(1),
  simulatorUrl: z.string().url(),
  teamId: z.string().min(1),
  apiAppId: z.string().min(1),
  defaultUserId: z.string().min(1),
  defaultChannelId: z.string().min(1),
  /** With the example config: the simulated platforms (src/local/platforms). */
  platforms: z
    .object({
      appsUrl: z.string().url(),
      services: z.array(
        z.object({
          name: z.string(),
          environment: z.string(),
          kind: z.string(),
          api: z.string(),
          health: z.string(),
        }),
      ),
    })
    .optional(),
});

export type LocalModeState = z.infer<typeof localModeStateSchema>;

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  env: NodeJS.ProcessEnv;
}

const START_HINT =
  'Start the bot in local mode first: `npm start` (with no Slack credentials configured), then retry.';

export const USAGE = `Usage:
  npm run slack -- "/incident help"                 send a slash command
  npm run slack -- /deploy api v42 --user U_BOB      (words after the command are its text)
  npm run slack -- click <action_id> [--select v]    click the newest button with that action_id
  npm run slack -- submit <callback_id> block=value  submit the open modal (block.action=value also works)

Options:
  --user <U…>        who types the command / clicks (default: the local-mode default user)
  --channel <C…|#name>  where (default: the local-mode default channel)
  --wait <ms>        how long to wait for follow-ups (default 2000)`;

export type CliCommand =
  | { kind: 'help' }
  | { kind: 'error'; message: string }
  | { kind: 'slash'; command: string; text: string; flags: CliFlags }
  | { kind: 'click'; actionId: string; flags: CliFlags }
  | { kind: 'submit'; view: string; assignments: string[]; flags: CliFlags };

export interface CliFlags {
  user?: string;
  channel?: string;
  waitMs: number;
  select?: string[];
  value?: string;
}

/** Parses CLI arguments (everything after `npm run slack --`). */
export function parseCliArgs(argv: readonly string[]): CliCommand {
  const positional: string[] = [];
  const flags: CliFlags = { waitMs: 2000 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const takeValue = (): string | undefined => {
      const eq = arg.indexOf('=');
      if (eq >= 0) return arg.slice(eq + 1);
      i += 1;
      return argv[i];
    };
    const name = arg.split('=')[0];
    if (arg === '--help' || arg === '-h') return { kind: 'help' };
    if (
      name === '--user' ||
      name === '--channel' ||
      name === '--wait' ||
      name === '--select' ||
      name === '--value'
    ) {
      const value = takeValue();
      if (value === undefined || value === '') return { kind: 'error', message: `${name} needs a value` };
      if (name === '--user') flags.user = value;
      else if (name === '--channel') flags.channel = value;
      else if (name === '--value') flags.value = value;
      else if (name === '--select') flags.select = [...(flags.select ?? []), value];
      else {
        const ms = Number(value);
        if (!Number.isFinite(ms) || ms < 0)
          return { kind: 'error', message: '--wait needs a number of milliseconds' };
        flags.waitMs = ms;
      }
      continue;
    }
    positional.push(arg);
  }
  const first = positional[0];
  if (first === undefined || first === 'help') return { kind: 'help' };
  if (first === 'click') {
    const actionId = positional[1];
    if (!actionId && flags.value === undefined) return { kind: 'error', message: 'click needs an action_id' };
    return { kind: 'click', actionId: actionId ?? '', flags };
  }
  if (first === 'submit') {
    const view = positional[1];
    if (!view)
      return { kind: 'error', message: 'submit needs the callback_id (or view id) of an open modal' };
    return { kind: 'submit', view, assignments: positional.slice(2), flags };
  }
  const line = positional.join(' ').trim();
  if (!line.startsWith('/')) {
    return { kind: 'error', message: `Expected a slash command like "/incident help", got "${line}"` };
  }
  const space = line.search(/\s/);
  const command = space < 0 ? line : line.slice(0, space);
  const text = space < 0 ? '' : line.slice(space + 1).trim();
  return { kind: 'slash', command, text, flags };
}

export function localModeStatePath(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.RUNBOOK_DATA_DIR || './data', 'local-mode.json');
}

export function readLocalModeState(path: string): LocalModeState | { error: string } {
  if (!existsSync(path)) {
    return { error: `Local mode isn't running (no ${path}).\n${START_HINT}` };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    return {
      error: `Could not read ${path}: ${error instanceof Error ? error.message : String(error)}.\n${START_HINT}`,
    };
  }
  const parsed = localModeStateSchema.safeParse(raw);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => i.path.join('.') || '(root)').join(', ');
    return { error: `${path} is not a valid local-mode state file (bad: ${fields}).\n${START_HINT}` };
  }
  return parsed.data;
}

// ---------------------------------------------------------------------------
// Formatting what the simulator recorded
// ---------------------------------------------------------------------------

const recordSchema = z.record(z.string(), z.unknown());
const callSchema = z.object({
  index: z.number(),
  method: z.string(),
  args: recordSchema,
  response: recordSchema,
  httpStatus: z.number(),
});
const responseSchema = z.object({
  index: z.number(),
  body: recordSchema,
  context: recordSchema,
  outcome: z.string(),
  error: z.string().optional(),
  messageTs: z.string().optional(),
});
const pageSchema = <T extends z.ZodType>(item: T) => z.object({ total: z.number(), items: z.array(item) });

export type ActivityCall = z.infer<typeof callSchema>;
export type ActivityResponse = z.infer<typeof responseSchema>;

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `   ${l}`)
    .join('\n');
}

export interface Names {
  users: Record<string, string>;
  channels: Record<string, string>;
}

export function namesFrom(info: WorkspaceInfo | undefined): Names {
  const users: Record<string, string> = {};
  const channels: Record<string, string> = {};
  for (const u of info?.users ?? []) users[u.id] = u.name;
  for (const c of info?.channels ?? []) channels[c.id] = c.name;
  return { users, channels };
}

function channelLabel(id: unknown, names: Names): string {
  const channel = str(id) ?? '?';
  const name = names.channels[channel];
  return name ? `#${name}` : channel;
}

function userLabel(id: unknown, names: Names): string {
  const user = str(id) ?? '?';
  return `@${names.users[user] ?? user}`;
}

function messageOf(value: unknown): { text?: string; blocks?: unknown[]; attachments?: unknown[] } {
  const record = recordSchema.safeParse(value);
  if (!record.success) return {};
  const m = record.data;
  return {
    text: str(m.text),
    blocks: Array.isArray(m.blocks) ? m.blocks : undefined,
    attachments: Array.isArray(m.attachments) ? m.attachments : undefined,
  };
}

/** action_ids of interactive elements in a message or view, for the "click with" hint. */
export function actionIdsIn(blocks: unknown): string[] {
  if (!Array.isArray(blocks)) return [];
  return interactiveElements(blocks)
    .filter((l) => l.block.type !== 'input')
    .map((l) => String(l.element.action_id));
}

/** Human-readable lines for one recorded Web API call. */
export function formatCall(call: ActivityCall, names: Names, render: RenderOptions = names): string {
  const { method, args, response } = call;
  if (response.ok !== true) {
    const detail = JSON.stringify(response.response_metadata ?? '');
    return `✗ ${method} failed: ${String(response.error ?? `HTTP ${call.httpStatus}`)}${detail && detail !== '""' ? ` ${detail}` : ''}`;
  }
  const thread = str(args.thread_ts) ? ` (in thread ${str(args.thread_ts)})` : '';
  switch (method) {
    case 'chat.postMessage':
      return `── message in ${channelLabel(response.channel, names)}${thread} · ts ${str(response.ts)}\n${indent(
        renderSlackMessage(messageOf(response.message ?? args), render),
      )}`;
    case 'chat.update':
      return `── message ${str(response.ts)} in ${channelLabel(response.channel, names)} updated\n${indent(
        renderSlackMessage(messageOf(response.message ?? args), render),
      )}`;
    case 'chat.postEphemeral':
      return `── only visible to ${userLabel(args.user, names)} in ${channelLabel(args.channel, names)}${thread}\n${indent(
        renderSlackMessage(messageOf(args), render),
      )}`;
    case 'chat.delete':
      return `── message ${str(args.ts)} in ${channelLabel(args.channel, names)} deleted`;
    case 'views.open':
    case 'views.push':
    case 'views.update': {
      const view = recordSchema.safeParse(response.view);
      const v = view.success ? view.data : {};
      const verb = method === 'views.open' ? 'opened' : method === 'views.push' ? 'pushed' : 'updated';
      return `── modal ${verb} (callback_id "${str(v.callback_id) ?? ''}", view ${str(v.id) ?? '?'})\n${indent(
        renderSlackView(v, render),
      )}`;
    }
    case 'conversations.create': {
      const channel = recordSchema.safeParse(response.channel);
      const c = channel.success ? channel.data : {};
      if (str(c.id) && str(c.name)) names.channels[String(c.id)] = String(c.name);
      return `── created channel #${str(c.name) ?? '?'} (${str(c.id) ?? '?'})`;
    }
    case 'conversations.invite':
      return `── invited ${(str(args.users) ?? '')
        .split(',')
        .filter(Boolean)
        .map((u) => userLabel(u, names))
        .join(', ')} to ${channelLabel(args.channel, names)}`;
    case 'conversations.setTopic':
      return `── topic of ${channelLabel(args.channel, names)}: ${str(args.topic) ?? ''}`;
    case 'conversations.archive':
      return `── archived ${channelLabel(args.channel, names)}`;
    case 'conversations.join':
      return `── joined ${channelLabel(args.channel, names)}`;
    case 'pins.add':
      return `── pinned ${str(args.timestamp)} in ${channelLabel(args.channel, names)}`;
    case 'reactions.add':
      return `── reacted :${str(args.name)}: to ${str(args.timestamp)} in ${channelLabel(args.channel, names)}`;
    case 'files.completeUploadExternal': {
      const files = z.array(recordSchema).safeParse(response.files);
      const listed = (files.success ? files.data : [])
        .map((f) => `"${str(f.name) ?? '?'}" (${String(f.size ?? '?')} bytes, ${str(f.id) ?? '?'})`)
        .join(', ');
      const where = str(args.channel_id) ?? str(args.channels);
      const comment = str(args.initial_comment);
      return `── file ${listed} ${where ? `shared in ${channelLabel(where, names)}${thread}` : 'uploaded, private'} · content: GET /_sim/files${
        comment ? `\n${indent(renderSlackMessage({ text: comment }, render))}` : ''
      }`;
    }
    default: {
      const summary = Object.entries(args)
        .filter(([, v]) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(' ');
      return `·· ${method}${summary ? ` ${summary}` : ''}`;
    }
  }
}

/** Human-readable lines for one response_url post. */
export function formatResponse(
  response: ActivityResponse,
  names: Names,
  render: RenderOptions = names,
): string {
  const where = channelLabel(response.context.channelId, names);
  const body = indent(renderSlackMessage(messageOf(response.body), render));
  switch (response.outcome) {
    case 'in_channel':
      return `── reply in ${where} (visible to everyone)\n${body}`;
    case 'ephemeral':
      return `── reply only visible to ${userLabel(response.context.userId, names)} in ${where}\n${body}`;
    case 'replaced':
      return `── replaced message ${response.messageTs ?? ''} in ${where}\n${body}`;
    case 'deleted':
      return `── deleted message ${response.messageTs ?? ''} in ${where}`;
    default:
      return `✗ response_url post rejected: ${response.error ?? 'unknown error'}`;
  }
}

/** How the bot's immediate HTTP answer reads. */
export function formatHttpAnswer(result: SlackHttpResult, render: RenderOptions): string {
  const ms = Math.round(result.durationMs);
  const late = result.withinAckDeadline
    ? ''
    : ' — too slow: Slack gives up after 3 s and shows the user an error';
  if (result.status !== 200) {
    return `✗ bot answered HTTP ${result.status} in ${ms} ms${late}${result.body ? `\n${indent(result.body)}` : ''}`;
  }
  const parsed = recordSchema.safeParse(result.json);
  if (!result.body.trim()) return `✓ acknowledged in ${ms} ms${late}`;
  if (!parsed.success) return `✓ answered in ${ms} ms${late}\n${indent(result.body)}`;
  const body = parsed.data;
  if (body.response_action === 'errors') {
    const errors = recordSchema.safeParse(body.errors);
    const lines = Object.entries(errors.success ? errors.data : {}).map(([k, v]) => `${k}: ${String(v)}`);
    return `✗ the modal shows errors (${ms} ms)\n${indent(lines.join('\n'))}`;
  }
  if (typeof body.response_action === 'string')
    return `✓ response_action "${body.response_action}" in ${ms} ms${late}`;
  const visibility = body.response_type === 'in_channel' ? 'visible to everyone' : 'only visible to you';
  return `✓ answered in ${ms} ms (${visibility})${late}\n${indent(renderSlackMessage(messageOf(body), render))}`;
}

// ---------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------

async function fetchPage<T extends z.ZodType>(url: string, item: T) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`HTTP ${response.status} from ${url}`);
  return pageSchema(item).parse(await response.json());
}

function isConnectionError(error: unknown): boolean {
  const text = String(error instanceof Error ? `${error.message} ${String(error.cause ?? '')}` : error);
  const code = error instanceof Error && 'code' in error ? String(error.code) : '';
  return /ECONNREFUSED|ECONNRESET|fetch failed|EHOSTUNREACH/.test(`${text} ${code}`);
}

function resolveChannel(ref: string | undefined, info: WorkspaceInfo | undefined): string | undefined {
  if (!ref) return undefined;
  const name = ref.replace(/^#/, '');
  return info?.channels.find((c) => c.name === name || c.id === ref)?.id ?? ref;
}

export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const command = parseCliArgs(argv);
  if (command.kind === 'help') {
    io.out(USAGE);
    return 0;
  }
  if (command.kind === 'error') {
    io.err(`${command.message}\n\n${USAGE}`);
    return 2;
  }
  const state = readLocalModeState(localModeStatePath(io.env));
  if ('error' in state) {
    io.err(state.error);
    return 1;
  }
  const simBase = state.simulatorUrl.replace(/\/+$/, '').replace(/\/api$/, '');
  let info: WorkspaceInfo | undefined;
  let sinceCalls = 0;
  let sinceResponses = 0;
  try {
    info = await remoteLink(simBase).workspaceInfo();
    sinceCalls = (await fetchPage(`${simBase}/_sim/calls?limit=0`, callSchema)).total;
    sinceResponses = (await fetchPage(`${simBase}/_sim/responses?limit=0`, responseSchema)).total;
  } catch (error) {
    io.err(
      `The Slack simulator at ${simBase} is not reachable (${error instanceof Error ? error.message : String(error)}).\n${START_HINT}`,
    );
    return 1;
  }
  const names = namesFrom(info);
  const client = new SlackRequestClient({
    botUrl: state.botUrl,
    signingSecret: state.signingSecret,
    simulatorUrl: simBase,
    teamId: state.teamId,
    apiAppId: state.apiAppId,
    defaultUserId: state.defaultUserId,
    defaultChannelId: state.defaultChannelId,
  });
  const flags = command.flags;
  const userId = flags.user ?? state.defaultUserId;
  const channelId = resolveChannel(flags.channel, info);
  const buttons = new Set<string>();
  let exitCode = 0;
  let modalOutcome: string | undefined;
  try {
    let result: SlackHttpResult;
    if (command.kind === 'slash') {
      io.out(
        `${userLabel(userId, names)} in ${channelLabel(channelId ?? state.defaultChannelId, names)}: ${command.command} ${command.text}`.trimEnd(),
      );
      result = await client.slashCommand({ command: command.command, text: command.text, userId, channelId });
    } else if (command.kind === 'click') {
      const click = await client.clickButton({
        actionId: command.actionId || undefined,
        value: flags.value,
        selected:
          flags.select === undefined
            ? undefined
            : flags.select.length === 1
              ? (flags.select[0] ?? null)
              : flags.select,
        userId,
        channelId,
      });
      const where =
        'channelId' in click.target
          ? `message ${click.target.ts} in ${channelLabel(click.target.channelId, names)}`
          : `modal ${click.target.id}`;
      io.out(`${userLabel(userId, names)} clicked "${command.actionId || flags.value}" on ${where}`);
      result = click;
    } else {
      const link = remoteLink(simBase);
      const byId = /^V[A-Z0-9_]+$/.test(command.view);
      const found = await link.findView(byId ? { viewId: command.view } : { callbackId: command.view });
      if (!found)
        throw new Error(`No open modal "${command.view}" (open one first, e.g. with a slash command)`);
      const values = assignmentsToValues(command.assignments, found.view.blocks);
      io.out(`${userLabel(userId, names)} submits modal "${String(found.view.callback_id)}" (${found.id})`);
      const submitted = await client.submitView({ viewId: found.id, userId, values });
      result = submitted;
      modalOutcome = submitted.outcome?.outcome;
    }
    io.out(formatHttpAnswer(result, names));
    if (modalOutcome && modalOutcome !== 'errors') io.out(`── modal ${modalOutcome}`);
    if (result.status !== 200) exitCode = 1;
    const json = recordSchema.safeParse(result.json);
    if (json.success) for (const id of actionIdsIn(json.data.blocks)) buttons.add(id);

    // Follow-ups: poll the simulator until things go quiet (or --wait runs out). A bare ack promises
    // an answer: that first one may be slow (a command whose cloud SDK loads on first use), so quiet
    // counts only after something came.
    const started = Date.now();
    let lastActivity = Date.now();
    let awaitingAnswer = result.status === 200 && !result.body.trim();
    const quietMs = Math.min(700, flags.waitMs);
    while (
      Date.now() - started < flags.waitMs &&
      (awaitingAnswer || Date.now() - lastActivity < Math.max(quietMs, 1))
    ) {
      await new Promise((r) => setTimeout(r, 100));
      const calls = await fetchPage(`${simBase}/_sim/calls?since=${sinceCalls}`, callSchema);
      const responses = await fetchPage(`${simBase}/_sim/responses?since=${sinceResponses}`, responseSchema);
      sinceCalls += calls.items.length;
      sinceResponses += responses.items.length;
      const events = [
        ...calls.items.map((c) => ({
          at: c.index,
          line: formatCall(c, names),
          blocks: c.response.message ?? c.args,
        })),
        ...responses.items.map((r) => ({ at: r.index, line: formatResponse(r, names), blocks: r.body })),
      ];
      for (const event of events) {
        io.out(event.line);
        const m = recordSchema.safeParse(event.blocks);
        if (m.success) for (const id of actionIdsIn(m.data.blocks)) buttons.add(id);
      }
      if (events.length > 0) {
        lastActivity = Date.now();
        awaitingAnswer = false;
      }
    }
    if (buttons.size > 0) {
      io.out(`\nButtons: ${[...buttons].join(', ')} — e.g. npm run slack -- click ${[...buttons][0]}`);
    }
  } catch (error) {
    if (isConnectionError(error)) {
      io.err(`The bot is not reachable at ${state.botUrl}.\n${START_HINT}`);
    } else {
      io.err(error instanceof Error ? error.message : String(error));
    }
    exitCode = 1;
  } finally {
    client.close();
  }
  return exitCode;
}

/** `block=value` / `block.action=value` pairs → submitView values (commas split multi-selects). */
export function assignmentsToValues(
  assignments: readonly string[],
  blocks: unknown,
): Record<string, Record<string, SelectionInput>> {
  const elements = Array.isArray(blocks) ? interactiveElements(blocks) : [];
  const values: Record<string, Record<string, SelectionInput>> = {};
  for (const assignment of assignments) {
    const eq = assignment.indexOf('=');
    if (eq <= 0) throw new Error(`Expected block=value or block.action=value, got "${assignment}"`);
    const key = assignment.slice(0, eq);
    const raw = assignment.slice(eq + 1);
    const dot = key.indexOf('.');
    const blockId = dot >= 0 ? key.slice(0, dot) : key;
    const inBlock = elements.filter((l) => l.blockId === blockId);
    const actionId = dot >= 0 ? key.slice(dot + 1) : String(inBlock[0]?.element.action_id ?? '');
    if (dot < 0 && inBlock.length !== 1) {
      throw new Error(
        inBlock.length === 0
          ? `The modal has no input "${blockId}" (inputs: ${elements.map((l) => l.blockId).join(', ') || 'none'})`
          : `Block "${blockId}" has several inputs; use ${blockId}.<action_id>=value`,
      );
    }
    const type = String(
      elements.find((l) => l.blockId === blockId && l.element.action_id === actionId)?.element.type ?? '',
    );
    const multi = type.startsWith('multi_') || type === 'checkboxes';
    values[blockId] ??= {};
    const bucket = values[blockId];
    if (bucket)
      bucket[actionId] = multi
        ? raw
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : raw;
  }
  return values;
}

if (import.meta.main) {
  process.exitCode = await main(process.argv.slice(2), {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    env: process.env,
  });
}
