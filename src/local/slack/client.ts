/**
 * `SlackRequestClient`: sends the app exactly what Slack sends it — signed
 * slash commands, `block_actions` / `view_submission` interaction payloads
 * (built from messages and views the bot really posted to the simulator) and
 * Events API callbacks — and returns the app's HTTP answer.
 */
import { Agent, request } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { findElement, interactiveElements } from './blocks.ts';
import { asArray, asString, type JsonObject, tryParseJson } from './json.ts';
import {
  type FoundMessage,
  type FoundView,
  type LocalSimulatorApi,
  localLink,
  remoteLink,
  type SimulatorLink,
  type ViewResultOutcome,
  type WorkspaceInfo,
} from './link.ts';
import {
  buildBlockActionsPayload,
  buildEventEnvelope,
  buildSlashCommandBody,
  buildViewSubmissionPayload,
  type SelectionInput,
  type TeamIdentity,
  type UserIdentity,
} from './payloads.ts';
import { signSlackRequest, slackTimestampNow } from './signing.ts';

/** Slack gives up on an app that hasn't answered within 3 s. */
export const SLACK_ACK_DEADLINE_MS = 3000;

export interface SlackRequestClientOptions {
  /** Where the app receives Slack requests, e.g. `http://127.0.0.1:3000/slack/events`. */
  botUrl: string;
  signingSecret: string;
  /** In-process simulator (mints trigger ids / response URLs, holds posted messages and views). */
  simulator?: LocalSimulatorApi;
  /** Or a simulator in another process, e.g. `http://127.0.0.1:PORT`. */
  simulatorUrl?: string;
  teamId?: string;
  teamDomain?: string;
  apiAppId?: string;
  enterpriseId?: string;
  verificationToken?: string;
  /** Bot user id put in event authorizations (default: the simulator's). */
  botUserId?: string;
  defaultUserId?: string;
  defaultChannelId?: string;
  /** Per-surface URLs if the app splits them (default: botUrl for all). */
  commandsUrl?: string;
  interactivityUrl?: string;
  eventsUrl?: string;
  /** Give up waiting for the app after this long (default 10 s). */
  timeoutMs?: number;
  /** Slack's idea of now, for request timestamps: the app's clock when tests run in virtual time. */
  now?: () => Date;
}

/** Options every request accepts (negative tests, retries). */
export interface DeliveryOptions {
  /** Sends `X-Slack-Retry-Num` (and `X-Slack-Retry-Reason`), as Slack does on redelivery. */
  retryNum?: number;
  retryReason?: string;
  /** `X-Slack-Request-Timestamp` in seconds (default now); set it old for stale-request tests. */
  timestamp?: number;
  /** Replaces the computed `X-Slack-Signature`. */
  signatureOverride?: string;
  /** Sign with another secret. */
  signingSecretOverride?: string;
  /** Raw body to send (and sign) instead of the generated one. */
  bodyOverride?: string;
  /** Sends this body while signing the generated one (tampering tests). */
  tamperedBody?: string;
  /** Extra/overriding HTTP headers. */
  headers?: Record<string, string>;
}

export interface SlackHttpResult {
  status: number;
  headers: Record<string, string>;
  /** Raw response body. */
  body: string;
  /** Parsed response body when it is JSON. */
  json: unknown;
  durationMs: number;
  /** Whether the app answered within Slack's 3 s deadline. */
  withinAckDeadline: boolean;
  /** What was sent. */
  requestBody: string;
  requestHeaders: Record<string, string>;
}

export interface SlashCommandResult extends SlackHttpResult {
  responseUrl: string;
  triggerId: string;
}

export interface SlashCommandInput extends DeliveryOptions {
  command: string;
  text?: string;
  userId?: string;
  channelId?: string;
  channelName?: string;
  /** Use this trigger_id / response_url instead of minting ones. */
  triggerId?: string;
  responseUrl?: string;
}

export interface ClickInput extends DeliveryOptions {
  /** The message to click in: a chat.postMessage result/message (`channel` + `ts`) … */
  message?: { channel?: string | undefined; channelId?: string | undefined; ts?: string | undefined };
  /** … or channel + ts … */
  channelId?: string;
  ts?: string;
  /** … or a modal (block_actions from a view) … */
  viewId?: string;
  /** … otherwise the newest message (or ephemeral message) that has the element. */
  actionId?: string;
  /** Finds a button by value when actionId isn't given. */
  value?: string;
  blockId?: string;
  /** For selects / pickers: the chosen option value, user id, channel id, date… (several for multi-selects). */
  selected?: SelectionInput;
  userId?: string;
}

export interface ClickResult extends SlackHttpResult {
  payload: JsonObject;
  triggerId: string;
  responseUrl: string | undefined;
  target: FoundMessage | FoundView;
}

export interface SubmitViewInput extends DeliveryOptions {
  viewId?: string;
  callbackId?: string;
  userId?: string;
  /** `{ [block_id]: { [action_id]: value } }` — strings, arrays for multi-selects/checkboxes, null to clear. */
  values?: Record<string, Record<string, SelectionInput>>;
  /** Allow submitting with required inputs empty (the Slack client wouldn't). */
  allowEmptyRequired?: boolean;
  /** Apply the app's answer to the simulator's view record (default true). */
  applyResult?: boolean;
}

export interface SubmitViewResult extends SlackHttpResult {
  payload: JsonObject;
  /** What Slack did with the app's answer (closed, errors, update, push, clear). */
  outcome: ViewResultOutcome | undefined;
  /** `response_action: errors` map, if the app answered with one. */
  errors: Record<string, string> | undefined;
}

export interface EventOptions extends DeliveryOptions {
  eventId?: string;
  eventTime?: number;
}

function headerRecord(headers: NodeJS.Dict<string | string[]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers)) {
    if (value !== undefined) out[key] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

export class SlackRequestClient {
  readonly options: SlackRequestClientOptions;
  readonly link: SimulatorLink | undefined;
  readonly #agent = new Agent({ keepAlive: true });
  readonly #httpsAgent = new HttpsAgent({ keepAlive: true });
  #info: WorkspaceInfo | undefined;

  constructor(options: SlackRequestClientOptions) {
    this.options = options;
    if (options.simulator) this.link = localLink(options.simulator);
    else if (options.simulatorUrl) this.link = remoteLink(options.simulatorUrl);
    else this.link = undefined;
  }

  /** Releases kept-alive sockets. */
  close(): void {
    this.#agent.destroy();
    this.#httpsAgent.destroy();
  }

  // -------------------------------------------------------------------------
  // Identity helpers
  // -------------------------------------------------------------------------

  async #workspace(refresh = false): Promise<WorkspaceInfo | undefined> {
    if (!this.link) return undefined;
    if (!this.#info || refresh) this.#info = await this.link.workspaceInfo();
    return this.#info;
  }

  async team(): Promise<TeamIdentity> {
    const info = await this.#workspace();
    return {
      teamId: this.options.teamId ?? info?.team.id ?? 'T_RUNBOOK',
      teamDomain: this.options.teamDomain ?? info?.team.domain ?? 'runbook-sim',
      apiAppId: this.options.apiAppId ?? info?.bot.appId ?? 'A_RUNBOOK',
      verificationToken:
        this.options.verificationToken ?? info?.verificationToken ?? 'sim-verification-token',
      enterpriseId: this.options.enterpriseId,
    };
  }

  async #user(userId: string | undefined): Promise<UserIdentity> {
    const id = userId ?? this.options.defaultUserId ?? 'U_ALICE';
    let info = await this.#workspace();
    let user = info?.users.find((u) => u.id === id);
    if (info && !user) {
      info = await this.#workspace(true);
      user = info?.users.find((u) => u.id === id);
    }
    return { id, name: user?.name ?? id.toLowerCase().replace(/^u_?/, '') };
  }

  async #channelName(channelId: string): Promise<string> {
    if (channelId.startsWith('D')) return 'directmessage';
    let info = await this.#workspace();
    let channel = info?.channels.find((c) => c.id === channelId);
    if (info && !channel) {
      info = await this.#workspace(true);
      channel = info?.channels.find((c) => c.id === channelId);
    }
    return channel?.name ?? channelId.toLowerCase();
  }

  async #defaultChannelId(): Promise<string> {
    return this.options.defaultChannelId ?? (await this.#workspace())?.defaultChannelId ?? 'C_INCIDENTS';
  }

  #requireLink(what: string): SimulatorLink {
    if (!this.link)
      throw new Error(`${what} needs the Slack simulator (pass \`simulator\` or \`simulatorUrl\`)`);
    return this.link;
  }

  // -------------------------------------------------------------------------
  // Slash commands
  // -------------------------------------------------------------------------

  async slashCommand(input: SlashCommandInput): Promise<SlashCommandResult> {
    const team = await this.team();
    const user = await this.#user(input.userId);
    const channelId = input.channelId ?? (await this.#defaultChannelId());
    const channelName = input.channelName ?? (await this.#channelName(channelId));
    const triggerId =
      input.triggerId ??
      (this.link
        ? await this.link.mintTriggerId({ userId: user.id })
        : `${Date.now()}.${team.teamId}.${Math.random().toString(16).slice(2)}`);
    const responseUrl =
      input.responseUrl ??
      (this.link
        ? await this.link.mintResponseUrl({ channelId, userId: user.id, source: 'command' })
        : `https://hooks.slack.com/commands/${team.teamId}/0/unset`);
    const body = buildSlashCommandBody({
      team,
      user,
      channelId,
      channelName,
      command: input.command.startsWith('/') ? input.command : `/${input.command}`,
      text: input.text ?? '',
      responseUrl,
      triggerId,
    });
    const result = await this.#deliver(
      this.options.commandsUrl ?? this.options.botUrl,
      body,
      'application/x-www-form-urlencoded',
      input,
    );
    return { ...result, responseUrl, triggerId };
  }

  // -------------------------------------------------------------------------
  // Interactivity
  // -------------------------------------------------------------------------

  /**
   * Clicks a button (or picks an option in a select) in a message the bot
   * posted, or in an open modal. Builds the `block_actions` payload from the
   * simulator's record of that message/view.
   */
  async clickButton(input: ClickInput): Promise<ClickResult> {
    const link = this.#requireLink('clickButton');
    const team = await this.team();
    const user = await this.#user(input.userId);
    if (input.actionId === undefined && input.value === undefined) {
      throw new Error('clickButton needs an actionId (or a button value)');
    }
    const query = { actionId: input.actionId, value: input.value, blockId: input.blockId };
    const describe =
      input.actionId !== undefined ? `action_id "${input.actionId}"` : `value "${input.value}"`;

    if (input.viewId) {
      const view = await link.findView({ viewId: input.viewId });
      if (!view) throw new Error(`No view ${input.viewId} in the simulator`);
      if (view.closed) throw new Error(`View ${input.viewId} is closed`);
      const blocks = asArray(view.view.blocks);
      const location = findElement(blocks, query);
      if (!location)
        throw new Error(`No element with ${describe} in view ${view.id} (has: ${actionIds(blocks)})`);
      const triggerId = await link.mintTriggerId({ userId: user.id, viewId: view.id });
      const payload = buildBlockActionsPayload({
        team,
        user,
        triggerId,
        location,
        selection: input.selected,
        view: { json: view.view },
      });
      const result = await this.#sendPayload(payload, input);
      return { ...result, payload, triggerId, responseUrl: undefined, target: view };
    }

    const ref = input.message;
    if (ref && !ref.ts)
      throw new Error('clickButton: `message` has no ts (pass a chat.postMessage result or a message)');
    const channelId = ref ? (ref.channelId ?? ref.channel) : input.channelId;
    const ts = ref ? ref.ts : input.ts;
    let target: FoundMessage | undefined;
    if (ts) {
      target = await link.findMessage({ channelId, ts });
      if (!target) throw new Error(`No message ${ts}${channelId ? ` in ${channelId}` : ''} in the simulator`);
    } else {
      target = await link.findMessage({
        channelId,
        actionId: input.actionId,
        value: input.value,
        userId: user.id,
      });
      if (!target) {
        throw new Error(`No message${channelId ? ` in ${channelId}` : ''} has an element with ${describe}`);
      }
    }
    const location = findElement(target.blocks, query);
    if (!location) {
      throw new Error(
        `Message ${target.ts} in ${target.channelId} has no element with ${describe} (has: ${actionIds(target.blocks)})`,
      );
    }
    if (target.ephemeral && target.visibleTo && target.visibleTo !== user.id) {
      throw new Error(
        `Ephemeral message ${target.ts} is only visible to ${target.visibleTo}, not ${user.id}`,
      );
    }
    const triggerId = await link.mintTriggerId({ userId: user.id });
    const responseUrl = await link.mintResponseUrl({
      channelId: target.channelId,
      userId: user.id,
      messageTs: target.ts,
      isEphemeral: target.ephemeral,
      threadTs: target.threadTs,
      source: 'block_actions',
    });
    const payload = buildBlockActionsPayload({
      team,
      user,
      triggerId,
      location,
      selection: input.selected,
      message: {
        channelId: target.channelId,
        channelName: await this.#channelName(target.channelId),
        ts: target.ts,
        threadTs: target.threadTs,
        ephemeral: target.ephemeral,
        json: target.message,
        blocks: target.blocks,
        responseUrl,
      },
    });
    const result = await this.#sendPayload(payload, input);
    return { ...result, payload, triggerId, responseUrl, target };
  }

  /** Submits a modal the bot opened, with the given input values. */
  async submitView(input: SubmitViewInput): Promise<SubmitViewResult> {
    const link = this.#requireLink('submitView');
    if (!input.viewId && !input.callbackId) throw new Error('submitView needs a viewId or a callbackId');
    const found = await link.findView({ viewId: input.viewId, callbackId: input.callbackId });
    if (!found)
      throw new Error(
        `No open view ${input.viewId ?? `with callback_id "${input.callbackId}"`} in the simulator`,
      );
    if (found.closed) throw new Error(`View ${found.id} is closed`);
    if (asString(found.view.type) !== 'modal') throw new Error(`View ${found.id} is not a modal`);
    const team = await this.team();
    const user = await this.#user(input.userId ?? (found.userId || undefined));
    const triggerId = await link.mintTriggerId({ userId: user.id, viewId: found.id });
    const responseUrls = new Map<string, string>();
    const candidates: string[] = [];
    for (const loc of interactiveElements(asArray(found.view.blocks))) {
      if (loc.element.response_url_enabled === true) candidates.push(loc.blockId);
    }
    if (candidates.length > 0) {
      for (const [blockId, byAction] of Object.entries(input.values ?? {})) {
        if (!candidates.includes(blockId)) continue;
        for (const v of Object.values(byAction)) {
          const channelId = typeof v === 'string' ? v : undefined;
          if (channelId && !responseUrls.has(channelId)) {
            responseUrls.set(
              channelId,
              await link.mintResponseUrl({ channelId, userId: user.id, source: 'view_submission' }),
            );
          }
        }
      }
    }
    const payload = buildViewSubmissionPayload({
      team,
      user,
      triggerId,
      view: found.view,
      values: input.values ?? {},
      requireNonOptional: !input.allowEmptyRequired,
      responseUrlFor: (channelId) => responseUrls.get(channelId) ?? '',
    });
    const result = await this.#sendPayload(payload, input);
    let outcome: ViewResultOutcome | undefined;
    if (result.status === 200 && input.applyResult !== false) {
      outcome = await link.applyViewResult(
        found.id,
        result.body === '' ? undefined : (result.json ?? undefined),
      );
    }
    const json = result.json;
    let errors: Record<string, string> | undefined;
    if (
      typeof json === 'object' &&
      json !== null &&
      'response_action' in json &&
      json.response_action === 'errors'
    ) {
      const raw = 'errors' in json ? json.errors : undefined;
      if (typeof raw === 'object' && raw !== null) {
        errors = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, String(v)]));
      }
    }
    return { ...result, payload, outcome, errors };
  }

  /** Sends any interaction payload (form-encoded `payload=<json>`, as Slack does). */
  async sendInteraction(payload: JsonObject, options: DeliveryOptions = {}): Promise<SlackHttpResult> {
    return this.#sendPayload(payload, options);
  }

  #sendPayload(payload: JsonObject, options: DeliveryOptions): Promise<SlackHttpResult> {
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    return this.#deliver(
      this.options.interactivityUrl ?? this.options.botUrl,
      body,
      'application/x-www-form-urlencoded',
      options,
    );
  }

  // -------------------------------------------------------------------------
  // Events API
  // -------------------------------------------------------------------------

  /** Sends an `event_callback` envelope around `event` (JSON body). */
  async sendEvent(
    event: JsonObject,
    options: EventOptions = {},
  ): Promise<SlackHttpResult & { envelope: JsonObject }> {
    const team = await this.team();
    const info = await this.#workspace();
    const botUserId = this.options.botUserId ?? info?.bot.userId ?? 'U_RUNBOOK';
    const envelope = buildEventEnvelope(team, botUserId, event, {
      eventId: options.eventId,
      eventTime: options.eventTime,
    });
    const result = await this.#deliver(
      this.options.eventsUrl ?? this.options.botUrl,
      JSON.stringify(envelope),
      'application/json',
      options,
    );
    return { ...result, envelope };
  }

  /**
   * Sends a request again byte for byte (same body, timestamp and signature): a replayed capture,
   * or one delivery reaching another replica. `url` defaults to this client's bot.
   */
  async resend(
    sent: Pick<SlackHttpResult, 'requestBody' | 'requestHeaders'>,
    url: string = this.options.botUrl,
  ): Promise<SlackHttpResult> {
    return this.#post(url, sent.requestBody, { ...sent.requestHeaders });
  }

  /** Sends Slack's `url_verification` handshake. */
  async urlVerification(challenge: string, options: DeliveryOptions = {}): Promise<SlackHttpResult> {
    const team = await this.team();
    const body = JSON.stringify({ token: team.verificationToken, challenge, type: 'url_verification' });
    return this.#deliver(this.options.eventsUrl ?? this.options.botUrl, body, 'application/json', options);
  }

  // -------------------------------------------------------------------------
  // HTTP
  // -------------------------------------------------------------------------

  async #deliver(
    url: string,
    generatedBody: string,
    contentType: string,
    options: DeliveryOptions,
  ): Promise<SlackHttpResult> {
    const body = options.bodyOverride ?? generatedBody;
    const timestamp = options.timestamp ?? slackTimestampNow(this.options.now?.().getTime());
    const signature =
      options.signatureOverride ??
      signSlackRequest(options.signingSecretOverride ?? this.options.signingSecret, timestamp, body);
    const sent = options.tamperedBody ?? body;
    const headers: Record<string, string> = {
      'Content-Type': contentType,
      'X-Slack-Request-Timestamp': String(timestamp),
      'X-Slack-Signature': signature,
      'User-Agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
      Accept: 'application/json,*/*',
    };
    if (options.retryNum !== undefined) {
      headers['X-Slack-Retry-Num'] = String(options.retryNum);
      headers['X-Slack-Retry-Reason'] = options.retryReason ?? 'http_timeout';
    }
    Object.assign(headers, options.headers);
    headers['Content-Length'] = String(Buffer.byteLength(sent));
    return this.#post(url, sent, headers);
  }

  #post(url: string, body: string, headers: Record<string, string>): Promise<SlackHttpResult> {
    const target = new URL(url);
    const isHttps = target.protocol === 'https:';
    const send = isHttps ? httpsRequest : request;
    const timeoutMs = this.options.timeoutMs ?? 10_000;
    const started = performance.now();
    return new Promise<SlackHttpResult>((resolve, reject) => {
      const req = send(
        target,
        { method: 'POST', headers, agent: isHttps ? this.#httpsAgent : this.#agent, timeout: timeoutMs },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const durationMs = performance.now() - started;
            const text = Buffer.concat(chunks).toString('utf8');
            const responseHeaders = headerRecord(res.headers);
            const isJson = (responseHeaders['content-type'] ?? '').includes('json') || /^\s*[{[]/.test(text);
            resolve({
              status: res.statusCode ?? 0,
              headers: responseHeaders,
              body: text,
              json: isJson ? tryParseJson(text) : undefined,
              durationMs,
              withinAckDeadline: durationMs < SLACK_ACK_DEADLINE_MS,
              requestBody: body,
              requestHeaders: headers,
            });
          });
        },
      );
      req.on('timeout', () => {
        req.destroy(new Error(`The app did not answer ${url} within ${timeoutMs} ms`));
      });
      req.on('error', reject);
      req.end(body);
    });
  }
}

function actionIds(blocks: readonly unknown[]): string {
  const ids = interactiveElements(blocks).map((l) => String(l.element.action_id));
  return ids.length > 0 ? ids.join(', ') : 'no interactive elements';
}
