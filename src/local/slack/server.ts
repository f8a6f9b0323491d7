/**
 * The Slack simulator: an in-repo fake of the Slack Web API on 127.0.0.1.
 *
 * - `POST /api/<method>` answers like slack.com/api (form or JSON bodies,
 *   Bearer or `token` auth, HTTP 200 + `ok:false` errors, HTTP 429 + Retry-After
 *   when rate limited). Point `@slack/web-api`'s `slackApiUrl` (or Bolt's
 *   `clientOptions.slackApiUrl`) at `sim.apiUrl`.
 * - `POST /response/<id>` is a response_url (minted by `sim.responseUrl()`).
 * - `/_sim/*` are control endpoints for out-of-process users (the local CLI).
 */
import { EventEmitter, once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { findElement, validateBlocks, withGeneratedIds } from './blocks.ts';
import { asRecord, asString, cloneJson, isRecord, type JsonObject, tryParseJson } from './json.ts';
import type {
  FoundMessage,
  FoundView,
  LocalSimulatorApi,
  MessageQuery,
  ViewQuery,
  ViewResultOutcome,
  WorkspaceInfo,
} from './link.ts';
import { type RateLimitOptions, TierLimiter } from './rate-tiers.ts';
import {
  MAX_UPLOAD_BYTES,
  METHODS,
  type MethodContext,
  runMethod,
  SlackApiError,
  UNAUTHENTICATED_METHODS,
  UPLOAD_PATH,
} from './web-api.ts';
import {
  compareTs,
  type ResponseUrlContext,
  type SimFile,
  type SimMessage,
  type SimView,
  slackId,
  Workspace,
  type WorkspaceOptions,
} from './workspace.ts';

export type { ResponseUrlContext } from './workspace.ts';

export interface SlackSimulatorOptions extends WorkspaceOptions {
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  /** Bot token the simulator accepts (default `xoxb-sim-bot-token`). */
  botToken?: string;
  /** Further tokens accepted as the bot (e.g. an app-level or user token). */
  extraTokens?: string[];
  /** Verification token put in payloads (deprecated by Slack, still sent). */
  verificationToken?: string;
  /** Channel used when a client doesn't say (default: the first channel, `C_INCIDENTS`). */
  defaultChannelId?: string;
  /** How long a trigger_id is valid (Slack: 3 s). */
  triggerTtlMs?: number;
  /** response_url limits (Slack: 5 uses within 30 minutes). */
  responseUrlMaxUses?: number;
  responseUrlTtlMs?: number;
  /** Artificial latency added to every Web API answer (benchmarks). */
  latencyMs?: number;
  /**
   * Slack's per-method rate tiers (rate-tiers.ts): over a tier's calls per minute, HTTP 429 with
   * `Retry-After`. On by default; `false` turns them off; an object shortens the window or sets
   * limits per method.
   */
  rateLimits?: boolean | RateLimitOptions;
}

export interface RecordedCall {
  index: number;
  method: string;
  /** Request arguments without the token; JSON-string args (blocks, view, …) parsed. */
  args: JsonObject;
  response: JsonObject;
  httpStatus: number;
  /** Epoch ms. */
  at: number;
  /** True when `injectFault` shaped the answer (an error, or a late answer). */
  fault: boolean;
}

export interface RecordedResponse {
  index: number;
  id: string;
  url: string;
  body: JsonObject;
  context: ResponseUrlContext;
  httpStatus: number;
  outcome: 'in_channel' | 'ephemeral' | 'replaced' | 'deleted' | 'rejected';
  error?: string;
  /** ts of the message posted / replaced / deleted. */
  messageTs?: string;
  at: number;
}

export interface FaultSpec {
  /** Web API method name, `response_url`, `file_upload` (upload URLs), or `*` for any Web API method. */
  method: string;
  /** `ok:false` error to answer (default `ratelimited` for 429, `fatal_error` for other HTTP errors). */
  error?: string;
  /** HTTP status (default 429 when retryAfterSeconds is set, else 200). */
  httpStatus?: number;
  /** Adds `Retry-After` (and implies HTTP 429). */
  retryAfterSeconds?: number;
  /** How many calls this applies to (default 1). */
  times?: number;
  /** Only calls whose arguments have these values (as sent: `{ channel: '#incidents' }`). */
  args?: Record<string, string>;
  /** In-process only: only calls for which this answers true (arguments as recorded). */
  match?: (args: JsonObject) => boolean;
  /**
   * Answers this many ms late (the call is recorded when it arrives). Alone, the call is carried out
   * at once and only its answer is late (or lost, when the app is gone by then), like a Slack that did
   * it; with `error`/`httpStatus`/`retryAfterSeconds`, nothing is done and the error comes late.
   */
  delayMs?: number;
}

interface ActiveFault extends FaultSpec {
  remaining: number;
}

interface WaitOptions<T> {
  /** Only consider records with index >= since (default: 0). */
  since?: number;
  timeoutMs?: number;
  predicate?: (record: T) => boolean;
}

const MAX_BODY_BYTES = 5 * 1024 * 1024;
const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' };

async function readBody(req: IncomingMessage, max: number = MAX_BODY_BYTES): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buf.length;
    if (size > max) throw new SlackApiError('request_too_large');
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...JSON_HEADERS, 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

function formToObject(params: URLSearchParams): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of params) out[k] = v;
  return out;
}

/** Args as recorded: token dropped, JSON-encoded arguments decoded. */
function normalizeArgs(args: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(args)) {
    if (key === 'token') continue;
    if (['blocks', 'attachments', 'view', 'metadata', 'files'].includes(key) && typeof value === 'string') {
      const parsed = tryParseJson(value);
      out[key] = parsed === undefined ? value : parsed;
    } else {
      out[key] = value;
    }
  }
  return out;
}

const contextSchema = z
  .object({
    channelId: z.string().optional(),
    userId: z.string().optional(),
    messageTs: z.string().optional(),
    isEphemeral: z.boolean().optional(),
    threadTs: z.string().optional(),
    source: z.enum(['command', 'block_actions', 'view_submission', 'manual']).optional(),
  })
  .catch({});

const triggerRequestSchema = z
  .object({ userId: z.string().optional(), viewId: z.string().optional() })
  .catch({});

const responseBodySchema = z.object({
  text: z.string().optional(),
  blocks: z.array(z.record(z.string(), z.unknown())).optional(),
  response_type: z.enum(['ephemeral', 'in_channel']).optional(),
  replace_original: z.union([z.boolean(), z.enum(['true', 'false'])]).optional(),
  delete_original: z.union([z.boolean(), z.enum(['true', 'false'])]).optional(),
  thread_ts: z.string().optional(),
});

const faultSchema = z.object({
  method: z.string(),
  error: z.string().optional(),
  httpStatus: z.number().int().optional(),
  retryAfterSeconds: z.number().optional(),
  times: z.number().int().optional(),
  args: z.record(z.string(), z.string()).optional(),
  delayMs: z.number().int().min(0).optional(),
});

export class SlackSimulator implements LocalSimulatorApi {
  readonly workspace: Workspace;
  readonly botToken: string;
  readonly verificationToken: string;
  readonly port: number;
  /** e.g. `http://127.0.0.1:53211` */
  readonly baseUrl: string;
  /** e.g. `http://127.0.0.1:53211/api/` — WebClient's `slackApiUrl`. */
  readonly apiUrl: string;
  readonly calls: RecordedCall[] = [];
  readonly responses: RecordedResponse[] = [];
  readonly #server: Server;
  readonly #options: SlackSimulatorOptions;
  readonly #tokens: Set<string>;
  readonly #events = new EventEmitter();
  #faults: ActiveFault[] = [];
  /** Late answers (delayMs faults) not sent yet; dropped on close. */
  readonly #late = new Set<NodeJS.Timeout>();
  readonly #tiers: TierLimiter | undefined;
  #closed = false;

  constructor(server: Server, options: SlackSimulatorOptions) {
    this.#server = server;
    this.#options = options;
    this.workspace = new Workspace(options);
    this.botToken = options.botToken ?? 'xoxb-sim-bot-token';
    this.verificationToken = options.verificationToken ?? 'sim-verification-token';
    this.#tokens = new Set([this.botToken, ...(options.extraTokens ?? [])]);
    const limits = options.rateLimits ?? true;
    this.#tiers = limits === false ? undefined : new TierLimiter(limits === true ? {} : limits);
    const address = server.address() as AddressInfo;
    this.port = address.port;
    this.baseUrl = `http://127.0.0.1:${this.port}`;
    this.apiUrl = `${this.baseUrl}/api/`;
    this.#events.setMaxListeners(0);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      this.#handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) sendJson(res, 500, { ok: false, error: 'fatal_error', detail: String(error) });
        else res.destroy();
      });
    });
  }

  get defaultChannelId(): string {
    const configured = this.#options.defaultChannelId;
    if (configured) return configured;
    const first = this.workspace.channels.values().next().value;
    return first?.id ?? 'C_INCIDENTS';
  }

  // -------------------------------------------------------------------------
  // Inspection helpers
  // -------------------------------------------------------------------------

  callsTo(method: string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  lastCall(method: string): RecordedCall | undefined {
    return this.callsTo(method).at(-1);
  }

  /** Messages in a channel, oldest first (thread replies included unless `topLevelOnly`). */
  messagesIn(
    channelId: string,
    options: { topLevelOnly?: boolean; includeDeleted?: boolean } = {},
  ): SimMessage[] {
    const channel = this.workspace.resolveChannel(channelId);
    const id = channel?.id ?? channelId;
    return this.workspace.messages.filter(
      (m) =>
        m.channel === id &&
        (options.includeDeleted || !m.deleted) &&
        (!options.topLevelOnly || m.threadTs === undefined || m.threadTs === m.ts || m.replyBroadcast),
    );
  }

  /** A thread: root first, then replies oldest first. */
  thread(channelId: string, rootTs: string): SimMessage[] {
    const root = this.workspace.findMessage(channelId, rootTs);
    return root ? [root, ...this.workspace.repliesOf(channelId, rootTs)] : [];
  }

  /** Ephemeral messages (chat.postEphemeral and response_url), optionally for one user. */
  ephemeralsFor(userId?: string) {
    return this.workspace.ephemerals.filter((e) => !e.deleted && (userId === undefined || e.user === userId));
  }

  /** Views opened, oldest first. */
  get views(): SimView[] {
    return [...this.workspace.views.values()];
  }

  /**
   * Files of the external upload flow, oldest first: `content` holds the bytes that reached the
   * upload URL, `shares` where files.completeUploadExternal shared it (none: private to the uploader).
   */
  get files(): SimFile[] {
    return [...this.workspace.files.values()];
  }

  /** A file's content as UTF-8 text (undefined before its bytes arrived). */
  fileText(fileId: string): string | undefined {
    return this.workspace.files.get(fileId)?.content?.toString('utf8');
  }

  /** Adds a message from a human (for history/replies scenarios). */
  postUserMessage(input: { channel: string; user: string; text: string; threadTs?: string }): SimMessage {
    const channel = this.workspace.resolveChannel(input.channel);
    if (!channel) throw new Error(`No channel ${input.channel}`);
    let threadTs: string | undefined;
    if (input.threadTs) {
      const root = this.workspace.findMessage(channel.id, input.threadTs);
      if (!root) throw new Error(`No message ${input.threadTs} in ${channel.id}`);
      threadTs = root.threadTs ?? root.ts;
      const top = this.workspace.findMessage(channel.id, threadTs);
      if (top) top.threadTs = top.ts;
    }
    const message = this.workspace.newMessage({
      channel: channel.id,
      text: input.text,
      user: input.user,
      threadTs,
    });
    this.workspace.messages.push(message);
    return message;
  }

  /** Resolves with the first call (index >= since) to `method` matching `predicate`. */
  waitForCall(method: string, options: WaitOptions<RecordedCall> = {}): Promise<RecordedCall> {
    return this.#waitFor(
      'call',
      () => this.calls,
      (c) => c.method === method,
      `a call to ${method}`,
      options,
    );
  }

  /** Resolves with the first response_url post (index >= since) matching `predicate`. */
  waitForResponse(options: WaitOptions<RecordedResponse> = {}): Promise<RecordedResponse> {
    return this.#waitFor(
      'response',
      () => this.responses,
      () => true,
      'a response_url post',
      options,
    );
  }

  #waitFor<T extends { index: number }>(
    event: string,
    list: () => T[],
    base: (r: T) => boolean,
    what: string,
    options: WaitOptions<T>,
  ): Promise<T> {
    const since = options.since ?? 0;
    const matches = (r: T) => r.index >= since && base(r) && (options.predicate?.(r) ?? true);
    const existing = list().find(matches);
    if (existing) return Promise.resolve(existing);
    const timeoutMs = options.timeoutMs ?? 5000;
    return new Promise<T>((resolve, reject) => {
      const onRecord = (r: T) => {
        if (!matches(r)) return;
        cleanup();
        resolve(r);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`Slack simulator: timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.#events.off(event, onRecord);
      };
      this.#events.on(event, onRecord);
    });
  }

  // -------------------------------------------------------------------------
  // Minting (trigger ids, response URLs)
  // -------------------------------------------------------------------------

  /** A fresh trigger_id, valid for `triggerTtlMs` (3 s) and one views.open/push. */
  mintTriggerId(context: { userId?: string | undefined; viewId?: string | undefined } = {}): string {
    return this.workspace.mintTrigger(context).id;
  }

  /** Mints a response_url, e.g. `http://127.0.0.1:PORT/response/T…/…/…`. */
  responseUrl(context: ResponseUrlContext = {}): string {
    return this.workspace.mintResponseUrl(this.baseUrl, {
      channelId: context.channelId ?? this.defaultChannelId,
      ...context,
    }).url;
  }

  // -------------------------------------------------------------------------
  // Fault injection
  // -------------------------------------------------------------------------

  /** Makes the next `times` calls of `method` fail (HTTP 429 + Retry-After, HTTP 5xx, or `ok:false`). */
  injectFault(spec: FaultSpec): void {
    this.#faults.push({ ...spec, remaining: spec.times ?? 1 });
  }

  clearFaults(): void {
    this.#faults = [];
  }

  #takeFault(method: string, allowWildcard: boolean, args: JsonObject = {}): ActiveFault | undefined {
    const fault = this.#faults.find(
      (f) =>
        f.remaining > 0 &&
        (f.method === method || (allowWildcard && f.method === '*')) &&
        Object.entries(f.args ?? {}).every(([key, value]) => asString(args[key]) === value) &&
        (f.match?.(args) ?? true),
    );
    if (!fault) return undefined;
    fault.remaining -= 1;
    this.#faults = this.#faults.filter((f) => f.remaining > 0);
    return fault;
  }

  // -------------------------------------------------------------------------
  // Link API (used by the request client)
  // -------------------------------------------------------------------------

  workspaceInfo(): WorkspaceInfo {
    const ws = this.workspace;
    return {
      team: { ...ws.team },
      bot: { ...ws.bot },
      users: [...ws.users.values()].map((u) => ({
        id: u.id,
        name: u.name,
        realName: u.realName,
        isBot: u.isBot,
      })),
      channels: [...ws.channels.values()]
        .filter((c) => !c.isIm)
        .map((c) => ({ id: c.id, name: c.name, isPrivate: c.isPrivate, isArchived: c.isArchived })),
      defaultChannelId: this.defaultChannelId,
      verificationToken: this.verificationToken,
    };
  }

  findMessage(query: MessageQuery): FoundMessage | undefined {
    const ws = this.workspace;
    const channelId = query.channelId
      ? (ws.resolveChannel(query.channelId)?.id ?? query.channelId)
      : undefined;
    type Candidate = FoundMessage;
    const candidates: Candidate[] = [];
    for (const m of ws.messages) {
      if (m.deleted || (channelId && m.channel !== channelId)) continue;
      if (query.ts && m.ts !== query.ts) continue;
      candidates.push({
        channelId: m.channel,
        ts: m.ts,
        threadTs: m.threadTs,
        ephemeral: false,
        visibleTo: undefined,
        message: ws.messageJson(m),
        blocks: m.blocks ?? [],
      });
    }
    for (const e of ws.ephemerals) {
      if (e.deleted || (channelId && e.channel !== channelId)) continue;
      if (query.ts && e.ts !== query.ts) continue;
      if (query.userId && e.user !== query.userId && !query.ts) continue;
      const message: JsonObject = { type: 'message', text: e.text, user: ws.bot.userId, ts: e.ts };
      if (e.blocks) message.blocks = cloneJson(e.blocks);
      candidates.push({
        channelId: e.channel,
        ts: e.ts,
        threadTs: e.threadTs,
        ephemeral: true,
        visibleTo: e.user,
        message,
        blocks: e.blocks ?? [],
      });
    }
    candidates.sort((a, b) => compareTs(b.ts, a.ts));
    if (query.actionId === undefined && query.value === undefined) return candidates[0];
    return candidates.find((c) => findElement(c.blocks, { actionId: query.actionId, value: query.value }));
  }

  findView(query: ViewQuery): FoundView | undefined {
    const views = [...this.workspace.views.values()].reverse();
    const match = views.find(
      (v) =>
        (query.viewId === undefined || v.id === query.viewId) &&
        (query.callbackId === undefined || v.view.callback_id === query.callbackId) &&
        (query.userId === undefined || v.userId === query.userId) &&
        (query.viewId !== undefined || !v.closed),
    );
    return match
      ? { id: match.id, userId: match.userId, closed: match.closed, view: cloneJson(match.view) }
      : undefined;
  }

  /**
   * Applies the app's answer to a view_submission like Slack does: empty → the
   * view closes; `response_action` clear/update/push/errors.
   */
  applyViewResult(viewId: string, responseBody: unknown): ViewResultOutcome {
    const ws = this.workspace;
    const view = ws.views.get(viewId);
    if (!view) return { outcome: 'invalid', errors: `no view ${viewId}` };
    const body = asRecord(typeof responseBody === 'string' ? tryParseJson(responseBody) : responseBody);
    const action = asString(body?.response_action);
    const stack = [...ws.views.values()].filter((v) => v.rootViewId === view.rootViewId && !v.closed);
    if (!body || action === undefined) {
      view.closed = true;
      return { outcome: 'closed', viewId };
    }
    if (action === 'errors') return { outcome: 'errors', errors: body.errors, viewId };
    if (action === 'clear') {
      for (const v of stack) v.closed = true;
      return { outcome: 'cleared', viewId };
    }
    if (action === 'update' || action === 'push') {
      const next = asRecord(body.view);
      const errors = next
        ? validateBlocks(next.blocks, { max: 100, pointer: '/view/blocks' })
        : ['missing view'];
      if (!next || errors.length > 0) return { outcome: 'invalid', errors, viewId };
      const hash = `${ws.nowSec()}.${slackId('', 8).toLowerCase()}`;
      const json = (id: string, previous: string | null): JsonObject => ({
        ...cloneJson(next),
        id,
        team_id: ws.team.id,
        blocks: withGeneratedIds(Array.isArray(next.blocks) ? next.blocks : []),
        private_metadata: asString(next.private_metadata) ?? '',
        callback_id: asString(next.callback_id) ?? '',
        state: { values: {} },
        hash,
        previous_view_id: previous,
        root_view_id: view.rootViewId,
        app_id: ws.bot.appId,
        bot_id: ws.bot.botId,
      });
      if (action === 'update') {
        view.view = json(view.id, view.previousViewId);
        view.hash = hash;
        return { outcome: 'updated', viewId: view.id };
      }
      if (stack.length >= 3) return { outcome: 'invalid', errors: 'push_limit_reached', viewId };
      const id = slackId('V');
      ws.views.set(id, {
        id,
        hash,
        userId: view.userId,
        view: json(id, view.id),
        rootViewId: view.rootViewId,
        previousViewId: view.id,
        externalId: asString(next.external_id) ?? '',
        openedAt: ws.nowMs(),
        closed: false,
      });
      return { outcome: 'pushed', viewId: id };
    }
    return { outcome: 'invalid', errors: `unknown response_action ${action}`, viewId };
  }

  // -------------------------------------------------------------------------
  // Lifecycle
  // -------------------------------------------------------------------------

  /** Forgets all calls, messages, views, faults; re-seeds users and channels. */
  reset(): void {
    this.calls.length = 0;
    this.responses.length = 0;
    this.#faults = [];
    this.#tiers?.reset();
    this.workspace.seed();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const timer of this.#late) clearTimeout(timer);
    this.#late.clear();
    const closed = once(this.#server, 'close');
    this.#server.close();
    this.#server.closeAllConnections();
    await closed;
  }

  // -------------------------------------------------------------------------
  // HTTP
  // -------------------------------------------------------------------------

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.baseUrl);
    const isUpload = url.pathname.startsWith(UPLOAD_PATH);
    let raw: Buffer;
    try {
      // An upload may carry a little more than the file: the multipart envelope.
      raw = await readBody(req, isUpload ? MAX_UPLOAD_BYTES + 64 * 1024 : MAX_BODY_BYTES);
    } catch (error) {
      if (error instanceof SlackApiError) return sendJson(res, 413, { ok: false, error: error.error });
      throw error;
    }
    const path = url.pathname;
    if (path.startsWith('/api/')) return this.#handleApi(req, res, url, raw);
    if (isUpload) return this.#handleUpload(req, res, path.slice(UPLOAD_PATH.length), raw);
    if (path.startsWith('/response/'))
      return this.#handleResponseUrl(req, res, path.slice('/response/'.length), raw);
    if (path.startsWith('/_sim/')) return this.#handleControl(req, res, url, raw);
    sendJson(res, 404, { ok: false, error: 'not_found' });
  }

  #record(call: Omit<RecordedCall, 'index' | 'at'>): RecordedCall {
    const recorded: RecordedCall = { index: this.calls.length, at: Date.now(), ...call };
    this.calls.push(recorded);
    this.#events.emit('call', recorded);
    return recorded;
  }

  async #parseApiArgs(
    req: IncomingMessage,
    url: URL,
    raw: Buffer,
  ): Promise<{ args: JsonObject; json: boolean } | string> {
    const args: JsonObject = formToObject(url.searchParams);
    if (raw.length === 0) return { args, json: false };
    const type = mediaType(req);
    if (type === '') return 'missing_post_type';
    if (type === 'application/json') {
      const parsed = tryParseJson(raw.toString('utf8'));
      if (!isRecord(parsed)) return 'invalid_json';
      const { token: _ignored, ...rest } = parsed;
      return { args: { ...args, ...rest }, json: true };
    }
    if (type === 'application/x-www-form-urlencoded' || type === 'text/plain') {
      return { args: { ...args, ...formToObject(new URLSearchParams(raw.toString('utf8'))) }, json: false };
    }
    if (type === 'multipart/form-data') {
      try {
        const form = await new Request(url, {
          method: 'POST',
          headers: { 'content-type': String(req.headers['content-type']) },
          body: new Uint8Array(raw),
        }).formData();
        for (const [key, value] of form)
          args[key] = typeof value === 'string' ? value : `<file ${value.name}>`;
        return { args, json: false };
      } catch {
        return 'invalid_form_data';
      }
    }
    return 'invalid_post_type';
  }

  async #handleApi(req: IncomingMessage, res: ServerResponse, url: URL, raw: Buffer): Promise<void> {
    let method: string;
    try {
      method = decodeURIComponent(url.pathname.slice('/api/'.length));
    } catch {
      method = url.pathname.slice('/api/'.length);
    }
    if (this.#options.latencyMs) await new Promise((r) => setTimeout(r, this.#options.latencyMs));
    const parsed = await this.#parseApiArgs(req, url, raw);
    const args = typeof parsed === 'string' ? {} : parsed.args;
    const recordedArgs = normalizeArgs(args);
    const fault = this.#takeFault(method, true, recordedArgs);
    const answer = (
      httpStatus: number,
      response: JsonObject,
      isFault = false,
      headers: Record<string, string> = {},
    ) => {
      this.#record({
        method,
        args: recordedArgs,
        response,
        httpStatus,
        fault: isFault || fault !== undefined,
      });
      if (!fault?.delayMs) return sendJson(res, httpStatus, response, headers);
      const timer = setTimeout(() => {
        this.#late.delete(timer);
        if (!res.destroyed && !res.writableEnded) sendJson(res, httpStatus, response, headers);
      }, fault.delayMs);
      this.#late.add(timer);
    };

    // A delay alone only makes the real answer late; anything else answers an error.
    const lateOnly =
      fault?.delayMs !== undefined &&
      fault.error === undefined &&
      fault.httpStatus === undefined &&
      fault.retryAfterSeconds === undefined;
    if (fault && !lateOnly) {
      const status = fault.httpStatus ?? (fault.retryAfterSeconds !== undefined ? 429 : 200);
      const headers: Record<string, string> = {};
      if (fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
      const error =
        fault.error ?? (status === 429 ? 'ratelimited' : status === 200 ? 'fatal_error' : 'fatal_error');
      return answer(status, { ok: false, error }, true, headers);
    }
    if (typeof parsed === 'string') return answer(200, { ok: false, error: parsed });
    if (!Object.hasOwn(METHODS, method)) {
      return answer(200, { ok: false, error: 'unknown_method' });
    }
    if (!UNAUTHENTICATED_METHODS.has(method)) {
      const header = req.headers.authorization;
      const bearer = header?.match(/^Bearer\s+(.+)$/i)?.[1]?.trim();
      const token = bearer ?? (parsed.json ? undefined : asString(args.token));
      if (!token) return answer(200, { ok: false, error: 'not_authed' });
      if (!this.#tokens.has(token)) return answer(200, { ok: false, error: 'invalid_auth' });
    }
    const retryAfter = this.#tiers?.take(method);
    if (retryAfter !== undefined)
      return answer(429, { ok: false, error: 'ratelimited' }, false, { 'retry-after': String(retryAfter) });
    const ctx: MethodContext = {
      ws: this.workspace,
      triggerTtlMs: this.#options.triggerTtlMs ?? 3000,
      baseUrl: this.baseUrl,
    };
    const { token: _token, ...methodArgs } = args;
    const response = runMethod(method, methodArgs, ctx);
    answer(200, response);
  }

  /**
   * An upload URL from files.getUploadURLExternal: a POST of the file's bytes, raw or as the file
   * part of a multipart form (`file`, or `body` as @slack/web-api sends it). Answers `OK - <length>`
   * with 200 like Slack; a length other than the one announced is refused (400). Sending again
   * before files.completeUploadExternal replaces the bytes (a client's retry).
   */
  async #handleUpload(req: IncomingMessage, res: ServerResponse, token: string, raw: Buffer): Promise<void> {
    const sendText = (status: number, text: string) => {
      res.writeHead(status, {
        'content-type': 'text/plain; charset=utf-8',
        'content-length': String(Buffer.byteLength(text)),
      });
      res.end(text);
    };
    const fault = this.#takeFault('file_upload', false);
    if (fault) {
      const status = fault.httpStatus ?? (fault.retryAfterSeconds !== undefined ? 429 : 500);
      const headers: Record<string, string> = {};
      if (fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
      res.end(fault.error ?? 'upload failed');
      return;
    }
    if (req.method !== 'POST') return sendText(405, 'Method Not Allowed');
    const file = this.workspace.fileByUploadToken(decodeURIComponent(token));
    if (!file || file.completed) return sendText(404, 'Not Found');
    let bytes: Buffer = raw;
    if (mediaType(req) === 'multipart/form-data') {
      let part: File | undefined;
      try {
        const form = await new Request(`${this.baseUrl}${UPLOAD_PATH}`, {
          method: 'POST',
          headers: { 'content-type': String(req.headers['content-type']) },
          body: new Uint8Array(raw),
        }).formData();
        for (const [, value] of form) {
          if (typeof value !== 'string') {
            part = value;
            break;
          }
        }
      } catch {
        return sendText(400, 'invalid multipart form');
      }
      if (!part) return sendText(400, 'no file in the form');
      bytes = Buffer.from(await part.arrayBuffer());
    }
    if (bytes.length !== file.length) {
      return sendText(400, `length mismatch: ${file.length} bytes announced, ${bytes.length} sent`);
    }
    file.content = bytes;
    sendText(200, `OK - ${bytes.length}`);
  }

  async #handleResponseUrl(
    req: IncomingMessage,
    res: ServerResponse,
    id: string,
    raw: Buffer,
  ): Promise<void> {
    const ws = this.workspace;
    let decodedId = id;
    try {
      decodedId = decodeURIComponent(id);
    } catch {
      // keep the raw id; it won't match and answers 404
    }
    const record = ws.responseUrls.get(decodedId);
    const rawText = raw.toString('utf8');
    let body: unknown = tryParseJson(rawText);
    if (body === undefined && mediaType(req) === 'application/x-www-form-urlencoded') {
      const payload = new URLSearchParams(rawText).get('payload');
      body = payload ? tryParseJson(payload) : undefined;
    }
    const bodyRecord = asRecord(body) ?? {};
    const context = record?.context ?? {};
    const log = (
      httpStatus: number,
      outcome: RecordedResponse['outcome'],
      extra: Partial<RecordedResponse> = {},
    ) => {
      const entry: RecordedResponse = {
        index: this.responses.length,
        id,
        url: record?.url ?? `${this.baseUrl}/response/${id}`,
        body: bodyRecord,
        context,
        httpStatus,
        outcome,
        at: Date.now(),
        ...extra,
      };
      this.responses.push(entry);
      this.#events.emit('response', entry);
      return entry;
    };
    const reject = (httpStatus: number, error: string) => {
      log(httpStatus, 'rejected', { error });
      sendJson(res, httpStatus, { ok: false, error });
    };

    const fault = this.#takeFault('response_url', false);
    if (fault) {
      const status = fault.httpStatus ?? (fault.retryAfterSeconds !== undefined ? 429 : 500);
      const headers: Record<string, string> = {};
      if (fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
      const error = fault.error ?? (status === 429 ? 'ratelimited' : 'fatal_error');
      log(status, 'rejected', { error });
      return sendJson(res, status, { ok: false, error }, headers);
    }
    if (!record) return reject(404, 'invalid_url');
    if (ws.nowMs() - record.createdAt > (this.#options.responseUrlTtlMs ?? 30 * 60_000)) {
      return reject(404, 'expired_url');
    }
    if (record.uses >= (this.#options.responseUrlMaxUses ?? 5)) return reject(404, 'used_url');
    if (body === undefined || !isRecord(body)) return reject(400, 'invalid_payload');
    const parsedBody = responseBodySchema.safeParse(body);
    if (!parsedBody.success) return reject(400, 'invalid_payload');
    const b = parsedBody.data;
    const truthy = (v: boolean | string | undefined) => v === true || v === 'true';
    let blocks: JsonObject[] | undefined;
    if (b.blocks !== undefined) {
      const errors = validateBlocks(b.blocks, { max: 50, pointer: '/blocks' });
      if (errors.length > 0) return reject(400, 'invalid_blocks');
      blocks = withGeneratedIds(b.blocks);
    }
    record.uses += 1;

    const channelId = context.channelId ?? this.defaultChannelId;
    if (truthy(b.delete_original)) {
      const ts = context.messageTs;
      const original = ts ? ws.findMessage(channelId, ts) : undefined;
      const eph = ts ? ws.findEphemeral(channelId, ts) : undefined;
      if (!original && !eph) return reject(404, 'message_not_found');
      if (original) original.deleted = true;
      if (eph) eph.deleted = true;
      log(200, 'deleted', { messageTs: ts });
      return sendJson(res, 200, { ok: true });
    }
    const hasContent = (b.text !== undefined && b.text !== '') || (blocks !== undefined && blocks.length > 0);
    if (!hasContent) return reject(400, 'no_text');
    const text = b.text ?? "This content can't be displayed.";
    if (truthy(b.replace_original)) {
      const ts = context.messageTs;
      const original = ts ? ws.findMessage(channelId, ts) : undefined;
      const eph = ts ? ws.findEphemeral(channelId, ts) : undefined;
      if (original) {
        original.text = text;
        original.blocks = blocks;
        original.edited = { user: ws.bot.userId, ts: ws.nextTs() };
      } else if (eph) {
        eph.text = text;
        eph.blocks = blocks;
      } else {
        return reject(404, 'message_not_found');
      }
      log(200, 'replaced', { messageTs: ts });
      return sendJson(res, 200, { ok: true });
    }
    const threadTs = b.thread_ts ?? context.threadTs;
    if (b.response_type === 'in_channel') {
      const channel = ws.resolveChannel(channelId);
      if (!channel) return reject(404, 'channel_not_found');
      const message = ws.newMessage({ channel: channel.id, text, blocks, ...ws.botAuthor, threadTs });
      if (threadTs) {
        const root = ws.findMessage(channel.id, threadTs);
        if (root) root.threadTs = root.ts;
      }
      ws.messages.push(message);
      log(200, 'in_channel', { messageTs: message.ts });
      return sendJson(res, 200, { ok: true });
    }
    const ts = ws.nextTs();
    ws.ephemerals.push({
      channel: channelId,
      ts,
      user: context.userId ?? '',
      text,
      blocks,
      threadTs,
      source: 'response_url',
      deleted: false,
    });
    log(200, 'ephemeral', { messageTs: ts });
    sendJson(res, 200, { ok: true });
  }

  async #handleControl(req: IncomingMessage, res: ServerResponse, url: URL, raw: Buffer): Promise<void> {
    const q = url.searchParams;
    const body = raw.length > 0 ? tryParseJson(raw.toString('utf8')) : {};
    const since = Math.max(0, Number(q.get('since') ?? 0) || 0);
    const limit = q.has('limit') ? Math.max(0, Number(q.get('limit')) || 0) : Number.POSITIVE_INFINITY;
    const route = `${req.method ?? 'GET'} ${url.pathname}`;
    switch (route) {
      case 'GET /_sim/calls':
        return sendJson(res, 200, {
          total: this.calls.length,
          items: this.calls.slice(since, since + limit),
        });
      case 'GET /_sim/responses':
        return sendJson(res, 200, {
          total: this.responses.length,
          items: this.responses.slice(since, since + limit),
        });
      case 'POST /_sim/trigger':
        return sendJson(res, 200, {
          ok: true,
          trigger_id: this.mintTriggerId(triggerRequestSchema.parse(body)),
        });
      case 'POST /_sim/response-url':
        return sendJson(res, 200, { ok: true, response_url: this.responseUrl(contextSchema.parse(body)) });
      case 'GET /_sim/files':
        return sendJson(res, 200, {
          files: this.files.map((f) => ({
            ...this.workspace.fileJson(f),
            completed: f.completed,
            content_base64: f.content?.toString('base64') ?? null,
          })),
        });
      case 'GET /_sim/workspace':
        return sendJson(res, 200, this.workspaceInfo());
      case 'GET /_sim/message':
        return sendJson(res, 200, {
          message:
            this.findMessage({
              channelId: q.get('channel') ?? undefined,
              ts: q.get('ts') ?? undefined,
              actionId: q.get('action_id') ?? undefined,
              value: q.get('value') ?? undefined,
              userId: q.get('user') ?? undefined,
            }) ?? null,
        });
      case 'GET /_sim/messages':
        return sendJson(res, 200, {
          messages: this.messagesIn(q.get('channel') ?? this.defaultChannelId).map((m) =>
            this.workspace.messageJson(m),
          ),
        });
      case 'GET /_sim/view':
        return sendJson(res, 200, {
          view:
            this.findView({
              viewId: q.get('view_id') ?? undefined,
              callbackId: q.get('callback_id') ?? undefined,
              userId: q.get('user') ?? undefined,
            }) ?? null,
        });
      case 'POST /_sim/view-result': {
        const parsed = z.object({ viewId: z.string(), body: z.unknown() }).safeParse(body);
        if (!parsed.success) return sendJson(res, 400, { ok: false, error: 'invalid_arguments' });
        return sendJson(res, 200, this.applyViewResult(parsed.data.viewId, parsed.data.body));
      }
      case 'POST /_sim/fault': {
        const parsed = faultSchema.safeParse(body);
        if (!parsed.success) return sendJson(res, 400, { ok: false, error: 'invalid_arguments' });
        this.injectFault(parsed.data);
        return sendJson(res, 200, { ok: true });
      }
      case 'POST /_sim/reset':
        this.reset();
        return sendJson(res, 200, { ok: true });
      default:
        return sendJson(res, 404, { ok: false, error: 'not_found' });
    }
  }
}

/** Starts a simulator on 127.0.0.1 (random port unless `port` is given). */
export async function startSlackSimulator(options: SlackSimulatorOptions = {}): Promise<SlackSimulator> {
  const server = createServer({ keepAliveTimeout: 5000 });
  server.listen(options.port ?? 0, '127.0.0.1');
  await once(server, 'listening');
  return new SlackSimulator(server, options);
}
