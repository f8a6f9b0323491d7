/**
 * How the request client reaches the simulator's records: in-process (a
 * `SlackSimulator` object) or over HTTP (`/_sim/*` control endpoints, used by
 * the local-mode CLI which runs in another process than the bot).
 */
import { z } from 'zod';
import type { JsonObject } from './json.ts';
import type { ResponseUrlContext, SimBot, SimTeam } from './workspace.ts';

export interface WorkspaceInfo {
  team: SimTeam;
  bot: SimBot;
  users: Array<{ id: string; name: string; realName: string; isBot: boolean }>;
  channels: Array<{ id: string; name: string; isPrivate: boolean; isArchived: boolean }>;
  defaultChannelId: string;
  verificationToken: string;
}

export interface MessageQuery {
  channelId?: string | undefined;
  ts?: string | undefined;
  /** Find the newest message containing an element with this action_id… */
  actionId?: string | undefined;
  /** …or (for buttons) with this value. */
  value?: string | undefined;
  /** Restrict ephemeral matches to messages this user can see. */
  userId?: string | undefined;
}

export interface FoundMessage {
  channelId: string;
  ts: string;
  threadTs?: string | undefined;
  ephemeral: boolean;
  /** For ephemeral messages: the one user who sees it. */
  visibleTo?: string | undefined;
  /** The message as Slack shows it to apps (history shape). */
  message: JsonObject;
  blocks: JsonObject[];
}

export interface ViewQuery {
  viewId?: string | undefined;
  callbackId?: string | undefined;
  userId?: string | undefined;
}

export interface FoundView {
  id: string;
  userId: string;
  closed: boolean;
  view: JsonObject;
}

export interface ViewResultOutcome {
  outcome: 'closed' | 'cleared' | 'updated' | 'pushed' | 'errors' | 'invalid';
  errors?: unknown;
  viewId?: string;
}

/** What the request client needs from the simulator. */
export interface SimulatorLink {
  workspaceInfo(): Promise<WorkspaceInfo>;
  mintTriggerId(context?: { userId?: string | undefined; viewId?: string | undefined }): Promise<string>;
  mintResponseUrl(context: ResponseUrlContext): Promise<string>;
  findMessage(query: MessageQuery): Promise<FoundMessage | undefined>;
  findView(query: ViewQuery): Promise<FoundView | undefined>;
  applyViewResult(viewId: string, responseBody: unknown): Promise<ViewResultOutcome>;
}

/** The synchronous lookups a `SlackSimulator` offers (see server.ts). */
export interface LocalSimulatorApi {
  workspaceInfo(): WorkspaceInfo;
  mintTriggerId(context?: { userId?: string | undefined; viewId?: string | undefined }): string;
  responseUrl(context?: ResponseUrlContext): string;
  findMessage(query: MessageQuery): FoundMessage | undefined;
  findView(query: ViewQuery): FoundView | undefined;
  applyViewResult(viewId: string, responseBody: unknown): ViewResultOutcome;
}

export function localLink(sim: LocalSimulatorApi): SimulatorLink {
  return {
    workspaceInfo: async () => sim.workspaceInfo(),
    mintTriggerId: async (context) => sim.mintTriggerId(context),
    mintResponseUrl: async (context) => sim.responseUrl(context),
    findMessage: async (query) => sim.findMessage(query),
    findView: async (query) => sim.findView(query),
    applyViewResult: async (viewId, body) => sim.applyViewResult(viewId, body),
  };
}

const jsonObject = z.record(z.string(), z.unknown());

const workspaceInfoSchema = z.object({
  team: z.object({ id: z.string(), name: z.string(), domain: z.string() }),
  bot: z.object({ userId: z.string(), botId: z.string(), appId: z.string(), name: z.string() }),
  users: z.array(z.object({ id: z.string(), name: z.string(), realName: z.string(), isBot: z.boolean() })),
  channels: z.array(
    z.object({ id: z.string(), name: z.string(), isPrivate: z.boolean(), isArchived: z.boolean() }),
  ),
  defaultChannelId: z.string(),
  verificationToken: z.string(),
});

const foundMessageSchema = z.object({
  channelId: z.string(),
  ts: z.string(),
  threadTs: z.string().optional(),
  ephemeral: z.boolean(),
  visibleTo: z.string().optional(),
  message: jsonObject,
  blocks: z.array(jsonObject),
});

const foundViewSchema = z.object({
  id: z.string(),
  userId: z.string(),
  closed: z.boolean(),
  view: jsonObject,
});

const viewResultSchema = z.object({
  outcome: z.enum(['closed', 'cleared', 'updated', 'pushed', 'errors', 'invalid']),
  errors: z.unknown().optional(),
  viewId: z.string().optional(),
});

/** A link to a simulator in another process, through its `/_sim/*` endpoints. */
export function remoteLink(simulatorUrl: string): SimulatorLink {
  const base = simulatorUrl.replace(/\/+$/, '').replace(/\/api$/, '');
  const call = async (path: string, body?: unknown): Promise<unknown> => {
    const response = await fetch(`${base}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? null : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`Slack simulator ${path} answered HTTP ${response.status}: ${text}`);
    return text === '' ? undefined : JSON.parse(text);
  };
  const query = (params: Record<string, string | undefined>) => {
    const search = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined) search.set(k, v);
    return search.toString();
  };
  return {
    workspaceInfo: async () => workspaceInfoSchema.parse(await call('/_sim/workspace')),
    mintTriggerId: async (context = {}) =>
      z.object({ trigger_id: z.string() }).parse(await call('/_sim/trigger', context)).trigger_id,
    mintResponseUrl: async (context) =>
      z.object({ response_url: z.string() }).parse(await call('/_sim/response-url', context)).response_url,
    findMessage: async (q) => {
      const result = z
        .object({ message: foundMessageSchema.nullable() })
        .parse(
          await call(
            `/_sim/message?${query({ channel: q.channelId, ts: q.ts, action_id: q.actionId, value: q.value, user: q.userId })}`,
          ),
        );
      return result.message ?? undefined;
    },
    findView: async (q) => {
      const result = z
        .object({ view: foundViewSchema.nullable() })
        .parse(
          await call(`/_sim/view?${query({ view_id: q.viewId, callback_id: q.callbackId, user: q.userId })}`),
        );
      return result.view ?? undefined;
    },
    applyViewResult: async (viewId, responseBody) =>
      viewResultSchema.parse(await call('/_sim/view-result', { viewId, body: responseBody ?? null })),
  };
}
