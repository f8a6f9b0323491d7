/**
 * Web API method implementations for the Slack simulator. Each handler takes
 * the request arguments (strings from form bodies, or JSON values) and answers
 * exactly what Slack would: `{ ok: true, ... }` or `{ ok: false, error }`.
 */
import { z } from 'zod';
import { randomShortId, validateBlocks, withGeneratedIds } from './blocks.ts';
import { asArray, asRecord, asString, cloneJson, isRecord, type JsonObject, tryParseJson } from './json.ts';
import {
  compareTs,
  type SimChannel,
  type SimFile,
  type SimMessage,
  type SimView,
  slackId,
  type Workspace,
} from './workspace.ts';

/** Thrown by handlers to answer `{ ok: false, error, ...extra }`. */
export class SlackApiError extends Error {
  readonly error: string;
  readonly extra: JsonObject;
  constructor(error: string, extra: JsonObject = {}) {
    super(error);
    this.name = 'SlackApiError';
    this.error = error;
    this.extra = extra;
  }
}

export interface MethodContext {
  ws: Workspace;
  /** Max age of a trigger_id in ms (Slack: 3 s). */
  triggerTtlMs: number;
  /** Where the simulator listens (`http://127.0.0.1:PORT`): upload URLs point there. */
  baseUrl: string;
}

export type MethodHandler = (args: JsonObject, ctx: MethodContext) => JsonObject;

/** Slack's text limit for chat.postMessage. */
export const MAX_MESSAGE_TEXT = 40_000;
const BLOCKS_ONLY_FALLBACK_TEXT = "This content can't be displayed.";

// ---------------------------------------------------------------------------
// Argument parsing (zod), tolerant of form-encoded strings like Slack.
// ---------------------------------------------------------------------------

const zText = z.union([z.string(), z.number()]).transform((v) => String(v));
const zBool = z.preprocess((v) => {
  if (v === 'true' || v === '1' || v === 1) return true;
  if (v === 'false' || v === '0' || v === 0 || v === '') return false;
  return v;
}, z.boolean());
const zInt = z.preprocess(
  (v) => (typeof v === 'string' && v.trim() !== '' ? Number(v) : v),
  z.number().int(),
);

function invalidArguments(messages: string[]): SlackApiError {
  return new SlackApiError('invalid_arguments', { response_metadata: { messages } });
}

function parseArgs<T extends z.ZodType>(schema: T, args: JsonObject): z.output<T> {
  const result = schema.safeParse(args);
  if (!result.success) {
    throw invalidArguments(
      result.error.issues.map((issue) => `[ERROR] ${issue.message} [json-pointer:/${issue.path.join('/')}]`),
    );
  }
  return result.data;
}

/** Parses a JSON-or-string argument like `blocks`, `view`, `attachments`. */
function jsonArg(value: unknown, formatError: string): unknown {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') return value;
  const parsed = tryParseJson(value);
  if (parsed === undefined) throw new SlackApiError(formatError);
  return parsed;
}

function blocksArg(value: unknown, max = 50): JsonObject[] | undefined {
  const parsed = jsonArg(value, 'invalid_blocks_format');
  if (parsed === undefined) return undefined;
  if (!Array.isArray(parsed)) throw new SlackApiError('invalid_blocks_format');
  const errors = validateBlocks(parsed, { max, pointer: '/blocks' });
  if (errors.length > 0)
    throw new SlackApiError('invalid_blocks', { response_metadata: { messages: errors } });
  return withGeneratedIds(parsed);
}

function attachmentsArg(value: unknown): JsonObject[] | undefined {
  const parsed = jsonArg(value, 'invalid_attachments');
  if (parsed === undefined) return undefined;
  if (!Array.isArray(parsed)) throw new SlackApiError('invalid_attachments');
  if (parsed.length > 100) throw new SlackApiError('too_many_attachments');
  return parsed.filter(isRecord);
}

// ---------------------------------------------------------------------------
// Shared lookups
// ---------------------------------------------------------------------------

/** The channel, as the bot can see it (private channels it isn't in don't exist for it). */
function visibleChannel(ctx: MethodContext, ref: string | undefined): SimChannel {
  if (!ref) throw new SlackApiError('channel_not_found');
  const channel = ctx.ws.resolveChannel(ref);
  if (!channel) throw new SlackApiError('channel_not_found');
  if (channel.isPrivate && !channel.members.has(ctx.ws.bot.userId))
    throw new SlackApiError('channel_not_found');
  return channel;
}

function requireMember(ctx: MethodContext, channel: SimChannel): void {
  if (!channel.members.has(ctx.ws.bot.userId)) throw new SlackApiError('not_in_channel');
}

function requireMessage(ctx: MethodContext, channel: SimChannel, ts: string | undefined): SimMessage {
  const message = ts ? ctx.ws.findMessage(channel.id, ts) : undefined;
  if (!message) throw new SlackApiError('message_not_found');
  return message;
}

function addSystemMessage(ctx: MethodContext, channel: SimChannel, subtype: string, text: string): void {
  ctx.ws.messages.push(ctx.ws.newMessage({ channel: channel.id, text, user: ctx.ws.bot.userId, subtype }));
}

// ---------------------------------------------------------------------------
// auth / api
// ---------------------------------------------------------------------------

const authTest: MethodHandler = (_args, { ws }) => ({
  ok: true,
  url: `https://${ws.team.domain}.slack.com/`,
  team: ws.team.name,
  user: ws.bot.name,
  team_id: ws.team.id,
  user_id: ws.bot.userId,
  bot_id: ws.bot.botId,
  is_enterprise_install: false,
});

const apiTest: MethodHandler = (args) => {
  const out: JsonObject = { ok: true, args: { ...args } };
  if (typeof args.error === 'string') return { ok: false, error: args.error, args: { ...args } };
  return out;
};

// ---------------------------------------------------------------------------
// chat.*
// ---------------------------------------------------------------------------

const postMessageSchema = z.object({
  channel: zText.optional(),
  text: zText.optional(),
  thread_ts: zText.optional(),
  reply_broadcast: zBool.optional(),
  mrkdwn: zBool.optional(),
  unfurl_links: zBool.optional(),
  unfurl_media: zBool.optional(),
});

function messageContent(
  args: JsonObject,
  text: string | undefined,
): { text: string; blocks: JsonObject[] | undefined; attachments: JsonObject[] | undefined } {
  const blocks = blocksArg(args.blocks);
  const attachments = attachmentsArg(args.attachments);
  const hasText = text !== undefined && text.trim() !== '';
  if (
    !hasText &&
    (blocks === undefined || blocks.length === 0) &&
    (attachments === undefined || attachments.length === 0)
  ) {
    throw new SlackApiError('no_text');
  }
  if (text !== undefined && text.length > MAX_MESSAGE_TEXT) throw new SlackApiError('msg_too_long');
  return { text: hasText ? (text ?? '') : blocks ? BLOCKS_ONLY_FALLBACK_TEXT : '', blocks, attachments };
}

const chatPostMessage: MethodHandler = (args, ctx) => {
  const a = parseArgs(postMessageSchema, args);
  const channel = visibleChannel(ctx, a.channel);
  if (channel.isArchived) throw new SlackApiError('is_archived');
  const content = messageContent(args, a.text);
  let threadTs: string | undefined;
  if (a.thread_ts) {
    const parent = ctx.ws.findMessage(channel.id, a.thread_ts);
    if (!parent) throw new SlackApiError('thread_not_found');
    threadTs = parent.threadTs ?? parent.ts;
    const root = ctx.ws.findMessage(channel.id, threadTs);
    if (root) root.threadTs = root.ts;
  }
  const metadata = asRecord(jsonArg(args.metadata, 'invalid_metadata_format'));
  const message = ctx.ws.newMessage({
    channel: channel.id,
    text: content.text,
    blocks: content.blocks,
    attachments: content.attachments,
    metadata,
    ...ctx.ws.botAuthor,
    subtype: threadTs && a.reply_broadcast ? 'thread_broadcast' : undefined,
    threadTs,
    replyBroadcast: Boolean(threadTs && a.reply_broadcast),
  });
  ctx.ws.messages.push(message);
  return { ok: true, channel: channel.id, ts: message.ts, message: ctx.ws.messageJson(message) };
};

const updateSchema = z.object({ channel: zText.optional(), ts: zText.optional(), text: zText.optional() });

const chatUpdate: MethodHandler = (args, ctx) => {
  const a = parseArgs(updateSchema, args);
  const channel = visibleChannel(ctx, a.channel);
  const message = requireMessage(ctx, channel, a.ts);
  if (message.user !== ctx.ws.bot.userId || message.botId === undefined)
    throw new SlackApiError('cant_update_message');
  if (channel.isArchived) throw new SlackApiError('is_archived');
  const blocks = blocksArg(args.blocks);
  const attachments = attachmentsArg(args.attachments);
  if (a.text === undefined && blocks === undefined && attachments === undefined)
    throw new SlackApiError('no_text');
  if (a.text !== undefined && a.text.length > MAX_MESSAGE_TEXT) throw new SlackApiError('msg_too_long');
  if (a.text !== undefined) message.text = a.text;
  if (blocks !== undefined) message.blocks = blocks.length > 0 ? blocks : undefined;
  if (attachments !== undefined) message.attachments = attachments.length > 0 ? attachments : undefined;
  if (a.text === undefined && blocks && blocks.length > 0 && message.text === '')
    message.text = BLOCKS_ONLY_FALLBACK_TEXT;
  message.edited = { user: ctx.ws.bot.userId, ts: ctx.ws.nextTs() };
  const json = ctx.ws.messageJson(message);
  return { ok: true, channel: channel.id, ts: message.ts, text: message.text, message: json };
};

const chatDelete: MethodHandler = (args, ctx) => {
  const a = parseArgs(updateSchema, args);
  const channel = visibleChannel(ctx, a.channel);
  const message = requireMessage(ctx, channel, a.ts);
  if (message.user !== ctx.ws.bot.userId) throw new SlackApiError('cant_delete_message');
  message.deleted = true;
  return { ok: true, channel: channel.id, ts: message.ts };
};

const ephemeralSchema = z.object({
  channel: zText.optional(),
  user: zText.optional(),
  text: zText.optional(),
  thread_ts: zText.optional(),
});

const chatPostEphemeral: MethodHandler = (args, ctx) => {
  const a = parseArgs(ephemeralSchema, args);
  const channel = visibleChannel(ctx, a.channel);
  if (channel.isArchived) throw new SlackApiError('is_archived');
  const user = a.user ? ctx.ws.users.get(a.user) : undefined;
  if (!user) throw new SlackApiError('user_not_found');
  if (!channel.members.has(user.id)) throw new SlackApiError('user_not_in_channel');
  const content = messageContent(args, a.text);
  const ts = ctx.ws.nextTs();
  ctx.ws.ephemerals.push({
    channel: channel.id,
    ts,
    user: user.id,
    text: content.text,
    blocks: content.blocks,
    threadTs: a.thread_ts,
    source: 'chat.postEphemeral',
    deleted: false,
  });
  return { ok: true, message_ts: ts };
};

const permalinkSchema = z.object({ channel: zText.optional(), message_ts: zText.optional() });

const chatGetPermalink: MethodHandler = (args, ctx) => {
  const a = parseArgs(permalinkSchema, args);
  const channel = visibleChannel(ctx, a.channel);
  const message = requireMessage(ctx, channel, a.message_ts);
  let permalink = `https://${ctx.ws.team.domain}.slack.com/archives/${channel.id}/p${message.ts.replace('.', '')}`;
  if (message.threadTs && message.threadTs !== message.ts) {
    permalink += `?thread_ts=${message.threadTs}&cid=${channel.id}`;
  }
  return { ok: true, channel: channel.id, permalink };
};

// ---------------------------------------------------------------------------
// views.*
// ---------------------------------------------------------------------------

function consumeTrigger(ctx: MethodContext, triggerId: string | undefined) {
  if (!triggerId) throw invalidArguments(['[ERROR] missing required field: trigger_id']);
  const trigger = ctx.ws.triggers.get(triggerId);
  if (!trigger) throw new SlackApiError('invalid_trigger_id');
  if (trigger.used) throw new SlackApiError('exchanged_trigger_id');
  if (ctx.ws.nowMs() - trigger.issuedAt > ctx.triggerTtlMs) throw new SlackApiError('expired_trigger_id');
  return trigger;
}

function validateViewTextLimit(
  value: unknown,
  pointer: string,
  max: number,
  errors: string[],
  required: boolean,
) {
  if (value === undefined || value === null) {
    if (required)
      errors.push(`[ERROR] missing required field: ${pointer.split('/').pop()} [json-pointer:${pointer}]`);
    return;
  }
  const text = asRecord(value);
  if (text?.type !== 'plain_text') {
    errors.push(`[ERROR] must be a plain_text object [json-pointer:${pointer}]`);
    return;
  }
  const body = asString(text.text) ?? '';
  if (body.length === 0) errors.push(`[ERROR] must be more than 0 characters [json-pointer:${pointer}/text]`);
  if (body.length > max)
    errors.push(`[ERROR] must be less than ${max + 1} characters [json-pointer:${pointer}/text]`);
}

/** Parses and validates a `view` argument; returns the normalized view body. */
function viewArg(value: unknown): JsonObject {
  const parsed = jsonArg(value, 'invalid_arguments');
  const view = asRecord(parsed);
  if (!view) throw invalidArguments(['[ERROR] missing required field: view']);
  const errors: string[] = [];
  if (view.type !== 'modal') errors.push('[ERROR] must be one of modal, home [json-pointer:/view/type]');
  validateViewTextLimit(view.title, '/view/title', 24, errors, true);
  validateViewTextLimit(view.submit, '/view/submit', 24, errors, false);
  validateViewTextLimit(view.close, '/view/close', 24, errors, false);
  const blocks = view.blocks;
  if (!Array.isArray(blocks))
    errors.push('[ERROR] missing required field: blocks [json-pointer:/view/blocks]');
  else errors.push(...validateBlocks(blocks, { max: 100, pointer: '/view/blocks' }));
  const meta = view.private_metadata;
  if (meta !== undefined && (typeof meta !== 'string' || meta.length > 3000)) {
    errors.push('[ERROR] must be less than 3001 characters [json-pointer:/view/private_metadata]');
  }
  const callbackId = view.callback_id;
  if (callbackId !== undefined && (typeof callbackId !== 'string' || callbackId.length > 255)) {
    errors.push('[ERROR] must be less than 256 characters [json-pointer:/view/callback_id]');
  }
  const hasInput = asArray(blocks).some((b) => asRecord(b)?.type === 'input');
  if (hasInput && view.submit === undefined) {
    errors.push(
      '[ERROR] submit is required when an input block is within the blocks array [json-pointer:/view/submit]',
    );
  }
  if (errors.length > 0) throw invalidArguments(errors);
  const json = JSON.stringify(view);
  if (json.length > 250_000) throw new SlackApiError('view_too_large');
  return view;
}

function viewHash(ctx: MethodContext): string {
  return `${ctx.ws.nowSec()}.${randomShortId(8)}`;
}

function buildViewJson(
  ctx: MethodContext,
  id: string,
  hash: string,
  body: JsonObject,
  stack: { root: string; previous: string | null },
) {
  const { ws } = ctx;
  return {
    id,
    team_id: ws.team.id,
    type: body.type,
    blocks: withGeneratedIds(asArray(body.blocks)),
    private_metadata: asString(body.private_metadata) ?? '',
    callback_id: asString(body.callback_id) ?? '',
    state: { values: {} },
    hash,
    title: cloneJson(body.title),
    clear_on_close: body.clear_on_close === true,
    notify_on_close: body.notify_on_close === true,
    close: body.close === undefined ? null : cloneJson(body.close),
    submit: body.submit === undefined ? null : cloneJson(body.submit),
    previous_view_id: stack.previous,
    root_view_id: stack.root,
    app_id: ws.bot.appId,
    external_id: asString(body.external_id) ?? '',
    app_installed_team_id: ws.team.id,
    bot_id: ws.bot.botId,
  } satisfies JsonObject;
}

function checkExternalId(ctx: MethodContext, body: JsonObject, exceptViewId?: string): void {
  const externalId = asString(body.external_id);
  if (!externalId) return;
  for (const v of ctx.ws.views.values()) {
    if (v.externalId === externalId && v.id !== exceptViewId && !v.closed)
      throw new SlackApiError('duplicate_external_id');
  }
}

const viewsOpenSchema = z.object({ trigger_id: zText.optional(), interactivity_pointer: zText.optional() });

const viewsOpen: MethodHandler = (args, ctx) => {
  const a = parseArgs(viewsOpenSchema, args);
  const body = viewArg(args.view);
  const trigger = consumeTrigger(ctx, a.trigger_id ?? a.interactivity_pointer);
  checkExternalId(ctx, body);
  const id = slackId('V');
  const hash = viewHash(ctx);
  const view = buildViewJson(ctx, id, hash, body, { root: id, previous: null });
  trigger.used = true;
  const record: SimView = {
    id,
    hash,
    userId: trigger.userId ?? '',
    view,
    rootViewId: id,
    previousViewId: null,
    externalId: view.external_id,
    openedAt: ctx.ws.nowMs(),
    closed: false,
  };
  ctx.ws.views.set(id, record);
  return { ok: true, view: cloneJson(view) };
};

const viewsUpdateSchema = z.object({
  view_id: zText.optional(),
  external_id: zText.optional(),
  hash: zText.optional(),
});

const viewsUpdate: MethodHandler = (args, ctx) => {
  const a = parseArgs(viewsUpdateSchema, args);
  if (!a.view_id && !a.external_id)
    throw invalidArguments(['[ERROR] either view_id or external_id is required']);
  const body = viewArg(args.view);
  let record: SimView | undefined;
  if (a.view_id) record = ctx.ws.views.get(a.view_id);
  else for (const v of ctx.ws.views.values()) if (v.externalId === a.external_id) record = v;
  if (!record || record.closed) throw new SlackApiError('not_found');
  if (a.hash !== undefined && a.hash !== '' && a.hash !== record.hash)
    throw new SlackApiError('hash_conflict');
  checkExternalId(ctx, body, record.id);
  record.hash = viewHash(ctx);
  record.view = buildViewJson(ctx, record.id, record.hash, body, {
    root: record.rootViewId,
    previous: record.previousViewId,
  });
  record.externalId = asString(record.view.external_id) ?? '';
  return { ok: true, view: cloneJson(record.view) };
};

const viewsPush: MethodHandler = (args, ctx) => {
  const a = parseArgs(viewsOpenSchema, args);
  const body = viewArg(args.view);
  const trigger = consumeTrigger(ctx, a.trigger_id ?? a.interactivity_pointer);
  const open = [...ctx.ws.views.values()].filter((v) => !v.closed);
  const from = trigger.viewId
    ? ctx.ws.views.get(trigger.viewId)
    : open.filter((v) => v.userId === trigger.userId).at(-1);
  if (!from || from.closed) throw new SlackApiError('not_found');
  const stack = open.filter((v) => v.rootViewId === from.rootViewId);
  if (stack.length >= 3) throw new SlackApiError('push_limit_reached');
  const top = stack.at(-1) ?? from;
  checkExternalId(ctx, body);
  const id = slackId('V');
  const hash = viewHash(ctx);
  const view = buildViewJson(ctx, id, hash, body, { root: from.rootViewId, previous: top.id });
  trigger.used = true;
  ctx.ws.views.set(id, {
    id,
    hash,
    userId: from.userId,
    view,
    rootViewId: from.rootViewId,
    previousViewId: top.id,
    externalId: view.external_id,
    openedAt: ctx.ws.nowMs(),
    closed: false,
  });
  return { ok: true, view: cloneJson(view) };
};

// ---------------------------------------------------------------------------
// conversations.*
// ---------------------------------------------------------------------------

const createSchema = z.object({ name: zText.optional(), is_private: zBool.optional() });

/** Slack's channel-name rules, as error codes. */
export function channelNameError(name: string | undefined): string | undefined {
  if (name === undefined || name === '') return 'invalid_name_required';
  if (name.length > 80) return 'invalid_name_maxlength';
  if (!/^[a-z0-9_-]+$/.test(name)) return 'invalid_name_specials';
  if (/^[-_]+$/.test(name)) return 'invalid_name_punctuation';
  return undefined;
}

const conversationsCreate: MethodHandler = (args, ctx) => {
  const a = parseArgs(createSchema, args);
  const nameError = channelNameError(a.name);
  if (nameError) throw new SlackApiError(nameError);
  const name = a.name ?? '';
  if (ctx.ws.channelByName(name)) throw new SlackApiError('name_taken');
  const channel = ctx.ws.addChannel({
    id: slackId('C'),
    name,
    isPrivate: a.is_private ?? false,
    members: [ctx.ws.bot.userId],
  });
  return { ok: true, channel: ctx.ws.channelJson(channel) };
};

const inviteSchema = z.object({
  channel: zText.optional(),
  users: zText.optional(),
  force: zBool.optional(),
});

const conversationsInvite: MethodHandler = (args, ctx) => {
  const a = parseArgs(inviteSchema, args);
  const channel = visibleChannel(ctx, a.channel);
  if (channel.isArchived) throw new SlackApiError('is_archived');
  requireMember(ctx, channel);
  const ids = (a.users ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (ids.length === 0) throw new SlackApiError('no_user');
  if (ids.length > 1000) throw new SlackApiError('too_many_users');
  const errors: JsonObject[] = [];
  const valid: string[] = [];
  for (const id of ids) {
    let error: string | undefined;
    if (!ctx.ws.users.has(id)) error = 'user_not_found';
    else if (id === ctx.ws.bot.userId) error = 'cant_invite_self';
    else if (channel.members.has(id)) error = 'already_in_channel';
    if (error) errors.push({ user: id, ok: false, error });
    else valid.push(id);
  }
  if (errors.length > 0 && !a.force) {
    throw new SlackApiError(String(errors[0]?.error), { errors });
  }
  for (const id of valid) channel.members.add(id);
  const out: JsonObject = { ok: true, channel: ctx.ws.channelJson(channel) };
  if (errors.length > 0) out.errors = errors;
  return out;
};

const channelSchema = z.object({ channel: zText.optional(), include_num_members: zBool.optional() });

const conversationsJoin: MethodHandler = (args, ctx) => {
  const a = parseArgs(channelSchema, args);
  const channel = visibleChannel(ctx, a.channel);
  if (channel.isArchived) throw new SlackApiError('is_archived');
  if (channel.isPrivate || channel.isIm) throw new SlackApiError('method_not_supported_for_channel_type');
  const already = channel.members.has(ctx.ws.bot.userId);
  channel.members.add(ctx.ws.bot.userId);
  const out: JsonObject = { ok: true, channel: ctx.ws.channelJson(channel) };
  if (already) {
    out.warning = 'already_in_channel';
    out.response_metadata = { warnings: ['already_in_channel'] };
  }
  return out;
};

const topicSchema = z.object({ channel: zText.optional(), topic: zText.optional() });

const conversationsSetTopic: MethodHandler = (args, ctx) => {
  const a = parseArgs(topicSchema, args);
  const channel = visibleChannel(ctx, a.channel);
  if (channel.isArchived) throw new SlackApiError('is_archived');
  requireMember(ctx, channel);
  const topic = a.topic ?? '';
  if (topic.length > 250) throw new SlackApiError('too_long');
  channel.topic = { value: topic, creator: ctx.ws.bot.userId, last_set: ctx.ws.nowSec() };
  addSystemMessage(ctx, channel, 'channel_topic', `set the channel topic: ${topic}`);
  return { ok: true, channel: ctx.ws.channelJson(channel) };
};

const conversationsInfo: MethodHandler = (args, ctx) => {
  const a = parseArgs(channelSchema, args);
  const channel = visibleChannel(ctx, a.channel);
  return {
    ok: true,
    channel: ctx.ws.channelJson(channel, { includeNumMembers: a.include_num_members ?? false }),
  };
};

const conversationsMembers: MethodHandler = (args, ctx) => {
  const a = parseArgs(channelSchema, args);
  const channel = visibleChannel(ctx, a.channel);
  return { ok: true, members: [...channel.members], response_metadata: { next_cursor: '' } };
};

const conversationsArchive: MethodHandler = (args, ctx) => {
  const a = parseArgs(channelSchema, args);
  const channel = visibleChannel(ctx, a.channel);
  if (channel.isArchived) throw new SlackApiError('already_archived');
  if (channel.name === 'general') throw new SlackApiError('cant_archive_general');
  if (channel.isIm) throw new SlackApiError('method_not_supported_for_channel_type');
  requireMember(ctx, channel);
  addSystemMessage(ctx, channel, 'channel_archive', 'archived the channel');
  channel.isArchived = true;
  return { ok: true };
};

const openSchema = z.object({ users: zText.optional(), channel: zText.optional() });

const conversationsOpen: MethodHandler = (args, ctx) => {
  const a = parseArgs(openSchema, args);
  if (a.channel) return { ok: true, channel: { id: visibleChannel(ctx, a.channel).id } };
  const ids = (a.users ?? '').split(',').filter(Boolean);
  const first = ids[0];
  if (!first) throw new SlackApiError('users_list_not_supplied');
  if (ids.length > 1) throw new SlackApiError('not_supported');
  if (!ctx.ws.users.has(first)) throw new SlackApiError('user_not_found');
  return { ok: true, channel: { id: ctx.ws.imWith(first).id } };
};

const userConversationsSchema = z.object({
  user: zText.optional(),
  types: zText.optional(),
  exclude_archived: zBool.optional(),
  limit: zInt.optional(),
  cursor: zText.optional(),
});

const CONVERSATION_TYPES = ['public_channel', 'private_channel', 'mpim', 'im'] as const;

/**
 * users.conversations: the channels a user (default: the bot) is a member of, filtered by `types`
 * (default `public_channel`), `exclude_archived`, paged by `limit` (default 100, at most 1000) and
 * `cursor`. Private channels only when the bot shares them, like Slack.
 */
const usersConversations: MethodHandler = (args, ctx) => {
  const a = parseArgs(userConversationsSchema, args);
  const types = (a.types ?? 'public_channel').split(',').map((t) => t.trim());
  if (!types.every((t) => (CONVERSATION_TYPES as readonly string[]).includes(t)))
    throw new SlackApiError('invalid_types');
  if (a.limit !== undefined && (a.limit < 1 || a.limit > 1000)) throw new SlackApiError('invalid_limit');
  const userId = a.user ?? ctx.ws.bot.userId;
  if (!ctx.ws.users.has(userId)) throw new SlackApiError('user_not_found');
  const offset = decodeCursor(a.cursor);
  const type = (c: SimChannel) => (c.isIm ? 'im' : c.isPrivate ? 'private_channel' : 'public_channel');
  const matching = [...ctx.ws.channels.values()].filter(
    (c) =>
      c.members.has(userId) &&
      types.includes(type(c)) &&
      !(a.exclude_archived && c.isArchived) &&
      (!c.isPrivate || c.members.has(ctx.ws.bot.userId)),
  );
  const limit = a.limit ?? 100;
  const slice = matching.slice(offset, offset + limit);
  const hasMore = offset + limit < matching.length;
  return {
    ok: true,
    channels: slice.map((c) => ctx.ws.channelJson(c)),
    response_metadata: { next_cursor: hasMore ? encodeCursor(offset + limit) : '' },
  };
};

const pageSchema = z.object({
  channel: zText.optional(),
  ts: zText.optional(),
  limit: zInt.optional(),
  cursor: zText.optional(),
  oldest: zText.optional(),
  latest: zText.optional(),
  inclusive: zBool.optional(),
});

function decodeCursor(cursor: string | undefined): number {
  if (!cursor) return 0;
  const decoded = Buffer.from(cursor, 'base64').toString('utf8');
  const match = /^next_ts:(\d+)$/.exec(decoded);
  if (!match) throw new SlackApiError('invalid_cursor');
  return Number(match[1]);
}

function encodeCursor(offset: number): string {
  return Buffer.from(`next_ts:${offset}`).toString('base64');
}

function inRange(ts: string, a: z.output<typeof pageSchema>): boolean {
  const inclusive = a.inclusive ?? false;
  if (a.oldest !== undefined && a.oldest !== '' && a.oldest !== '0') {
    const c = compareTs(ts, a.oldest);
    if (c < 0 || (c === 0 && !inclusive)) return false;
  }
  if (a.latest !== undefined && a.latest !== '') {
    const c = compareTs(ts, a.latest);
    if (c > 0 || (c === 0 && !inclusive)) return false;
  }
  return true;
}

function page(items: JsonObject[], a: z.output<typeof pageSchema>, defaultLimit: number): JsonObject {
  const limit = Math.min(Math.max(a.limit && a.limit > 0 ? a.limit : defaultLimit, 1), 999);
  const offset = decodeCursor(a.cursor);
  const slice = items.slice(offset, offset + limit);
  const hasMore = offset + limit < items.length;
  return {
    ok: true,
    messages: slice,
    has_more: hasMore,
    response_metadata: { next_cursor: hasMore ? encodeCursor(offset + limit) : '' },
  };
}

const conversationsHistory: MethodHandler = (args, ctx) => {
  const a = parseArgs(pageSchema, args);
  const channel = visibleChannel(ctx, a.channel);
  requireMember(ctx, channel);
  const items = ctx.ws.messages
    .filter(
      (m) =>
        m.channel === channel.id &&
        !m.deleted &&
        (m.threadTs === undefined || m.threadTs === m.ts || m.replyBroadcast) &&
        inRange(m.ts, a),
    )
    .sort((x, y) => compareTs(y.ts, x.ts))
    .map((m) => ctx.ws.messageJson(m));
  const pinCount = ctx.ws.messages.filter((m) => m.channel === channel.id && m.pinned && !m.deleted).length;
  return { ...page(items, a, 100), pin_count: pinCount };
};

const conversationsReplies: MethodHandler = (args, ctx) => {
  const a = parseArgs(pageSchema, args);
  const channel = visibleChannel(ctx, a.channel);
  requireMember(ctx, channel);
  const message = a.ts ? ctx.ws.findMessage(channel.id, a.ts) : undefined;
  if (!message) throw new SlackApiError('thread_not_found');
  const rootTs = message.threadTs ?? message.ts;
  const root = ctx.ws.findMessage(channel.id, rootTs);
  if (!root) throw new SlackApiError('thread_not_found');
  const thread = [root, ...ctx.ws.repliesOf(channel.id, rootTs)]
    .filter((m, i) => i === 0 || inRange(m.ts, a))
    .map((m) => ctx.ws.messageJson(m));
  return page(thread, a, 1000);
};

// ---------------------------------------------------------------------------
// pins / reactions / users / usergroups / team
// ---------------------------------------------------------------------------

const itemSchema = z.object({
  channel: zText.optional(),
  timestamp: zText.optional(),
  name: zText.optional(),
});

const pinsAdd: MethodHandler = (args, ctx) => {
  const a = parseArgs(itemSchema, args);
  const channel = visibleChannel(ctx, a.channel);
  requireMember(ctx, channel);
  if (!a.timestamp) throw new SlackApiError('no_item_specified');
  const message = requireMessage(ctx, channel, a.timestamp);
  if (message.pinned) throw new SlackApiError('already_pinned');
  message.pinned = true;
  return { ok: true };
};

const pinsRemove: MethodHandler = (args, ctx) => {
  const a = parseArgs(itemSchema, args);
  const channel = visibleChannel(ctx, a.channel);
  const message = requireMessage(ctx, channel, a.timestamp);
  if (!message.pinned) throw new SlackApiError('no_pin');
  message.pinned = false;
  return { ok: true };
};

const pinsList: MethodHandler = (args, ctx) => {
  const a = parseArgs(itemSchema, args);
  const channel = visibleChannel(ctx, a.channel);
  const items = ctx.ws.messages
    .filter((m) => m.channel === channel.id && m.pinned && !m.deleted)
    .map((m) => ({
      type: 'message',
      channel: channel.id,
      created: Number(m.ts.split('.')[0]),
      message: ctx.ws.messageJson(m),
    }));
  return { ok: true, items };
};

const reactionsAdd: MethodHandler = (args, ctx) => {
  const a = parseArgs(itemSchema, args);
  const name = (a.name ?? '').replace(/^:|:$/g, '');
  if (!name || /[\s:]/.test(name)) throw new SlackApiError('invalid_name');
  const channel = visibleChannel(ctx, a.channel);
  if (!a.timestamp) throw new SlackApiError('no_item_specified');
  const message = requireMessage(ctx, channel, a.timestamp);
  const userId = ctx.ws.bot.userId;
  let reaction = message.reactions.find((r) => r.name === name);
  if (reaction?.users.includes(userId)) throw new SlackApiError('already_reacted');
  if (!reaction) {
    reaction = { name, users: [] };
    message.reactions.push(reaction);
  }
  reaction.users.push(userId);
  return { ok: true };
};

const reactionsRemove: MethodHandler = (args, ctx) => {
  const a = parseArgs(itemSchema, args);
  const name = (a.name ?? '').replace(/^:|:$/g, '');
  const channel = visibleChannel(ctx, a.channel);
  const message = requireMessage(ctx, channel, a.timestamp);
  const reaction = message.reactions.find((r) => r.name === name);
  if (!reaction?.users.includes(ctx.ws.bot.userId)) throw new SlackApiError('no_reaction');
  reaction.users = reaction.users.filter((u) => u !== ctx.ws.bot.userId);
  message.reactions = message.reactions.filter((r) => r.users.length > 0);
  return { ok: true };
};

const userSchema = z.object({ user: zText.optional(), email: zText.optional() });

const usersInfo: MethodHandler = (args, ctx) => {
  const a = parseArgs(userSchema, args);
  const user = a.user ? ctx.ws.users.get(a.user) : undefined;
  if (!user) throw new SlackApiError('user_not_found');
  return { ok: true, user: ctx.ws.userJson(user) };
};

const usersLookupByEmail: MethodHandler = (args, ctx) => {
  const a = parseArgs(userSchema, args);
  const user = [...ctx.ws.users.values()].find((u) => u.email === a.email);
  if (!user) throw new SlackApiError('users_not_found');
  return { ok: true, user: ctx.ws.userJson(user) };
};

const usergroupSchema = z.object({ usergroup: zText.optional(), include_users: zBool.optional() });

const usergroupsUsersList: MethodHandler = (args, ctx) => {
  const a = parseArgs(usergroupSchema, args);
  const group = a.usergroup ? ctx.ws.usergroups.get(a.usergroup) : undefined;
  if (!group) throw new SlackApiError('no_such_subteam');
  return { ok: true, users: [...group.users] };
};

const usergroupsList: MethodHandler = (args, ctx) => {
  const a = parseArgs(usergroupSchema, args);
  return {
    ok: true,
    usergroups: [...ctx.ws.usergroups.values()].map((g) => ({
      id: g.id,
      team_id: ctx.ws.team.id,
      is_usergroup: true,
      name: g.name,
      handle: g.handle,
      user_count: g.users.length,
      ...(a.include_users ? { users: [...g.users] } : {}),
    })),
  };
};

const teamInfo: MethodHandler = (_args, { ws }) => ({
  ok: true,
  team: { id: ws.team.id, name: ws.team.name, domain: ws.team.domain, email_domain: 'example.com' },
});

// ---------------------------------------------------------------------------
// files.* (the external upload flow: getUploadURLExternal, POST the bytes, completeUploadExternal)
// ---------------------------------------------------------------------------

/** The largest file the simulator takes (Slack: 1 GB; the simulator keeps files in memory). */
export const MAX_UPLOAD_BYTES = 50 * 1024 * 1024;
/** The upload URL's path; the rest of it is the file's upload token. */
export const UPLOAD_PATH = '/upload/v1/';

const getUploadUrlSchema = z.object({
  filename: zText.optional(),
  length: zInt.optional(),
  alt_txt: zText.optional(),
  // What @slack/web-api's filesUploadV2 sends for alt_txt.
  alt_text: zText.optional(),
  snippet_type: zText.optional(),
});

const filesGetUploadURLExternal: MethodHandler = (args, ctx) => {
  const a = parseArgs(getUploadUrlSchema, args);
  const errors: string[] = [];
  if (a.filename === undefined || a.filename.trim() === '')
    errors.push('[ERROR] missing required field: filename [json-pointer:/filename]');
  if (a.length === undefined) errors.push('[ERROR] missing required field: length [json-pointer:/length]');
  else if (a.length < 1) errors.push('[ERROR] must be at least 1 [json-pointer:/length]');
  if (errors.length > 0) throw invalidArguments(errors);
  const altTxt = a.alt_txt ?? a.alt_text;
  if (altTxt !== undefined && altTxt.length > 1000) throw new SlackApiError('alt_txt_too_large');
  const length = a.length ?? 0;
  if (length > MAX_UPLOAD_BYTES) throw new SlackApiError('file_upload_size_restricted');
  const file = ctx.ws.addFile({
    name: a.filename ?? '',
    length,
    altTxt,
    snippetType: a.snippet_type,
  });
  return {
    ok: true,
    upload_url: `${ctx.baseUrl}${UPLOAD_PATH}${file.uploadToken}`,
    file_id: file.id,
  };
};

const completeUploadSchema = z.object({
  channel_id: zText.optional(),
  channels: zText.optional(),
  initial_comment: zText.optional(),
  thread_ts: zText.optional(),
});

const completeFileEntry = z.object({ id: z.string().min(1), title: zText.optional() });

/** Slack's limit of channels in one files.completeUploadExternal. */
const MAX_SHARE_CHANNELS = 100;

const filesCompleteUploadExternal: MethodHandler = (args, ctx) => {
  const a = parseArgs(completeUploadSchema, args);
  const rawFiles = jsonArg(args.files, 'invalid_arguments');
  if (rawFiles === undefined) throw invalidArguments(['[ERROR] missing required field: files']);
  const entries = z.array(completeFileEntry).min(1).safeParse(rawFiles);
  if (!entries.success) {
    throw invalidArguments([
      '[ERROR] must be a non-empty array of {id, title} objects [json-pointer:/files]',
    ]);
  }
  // Everything is checked before anything changes: a refused call shares nothing.
  const files: { file: SimFile; title: string | undefined }[] = [];
  for (const entry of entries.data) {
    const file = ctx.ws.files.get(entry.id);
    // Unknown, never uploaded (no bytes reached the upload URL), or completed already (once only).
    if (!file || file.content === undefined || file.completed) throw new SlackApiError('file_not_found');
    files.push({ file, title: entry.title });
  }
  const refs = [
    ...new Set(
      [a.channel_id, ...(a.channels ?? '').split(',')]
        .map((ref) => ref?.trim() ?? '')
        .filter((ref) => ref !== ''),
    ),
  ];
  if (refs.length > MAX_SHARE_CHANNELS) throw new SlackApiError('channels_limit_exceeded');
  if (a.thread_ts && refs.length !== 1) {
    throw invalidArguments(['[ERROR] thread_ts needs exactly one channel [json-pointer:/thread_ts]']);
  }
  const text = a.initial_comment ?? '';
  if (text.length > MAX_MESSAGE_TEXT) throw new SlackApiError('msg_too_long');
  const targets = refs.map((ref) => {
    const channel = visibleChannel(ctx, ref);
    if (channel.isArchived) throw new SlackApiError('is_archived');
    requireMember(ctx, channel);
    let threadTs: string | undefined;
    if (a.thread_ts) {
      const parent = ctx.ws.findMessage(channel.id, a.thread_ts);
      if (!parent) throw new SlackApiError('thread_not_found');
      threadTs = parent.threadTs ?? parent.ts;
    }
    return { channel, threadTs };
  });

  for (const { file, title } of files) {
    file.completed = true;
    if (title !== undefined && title.trim() !== '') file.title = title;
  }
  const ids = files.map(({ file }) => file.id);
  for (const { channel, threadTs } of targets) {
    if (threadTs) {
      const root = ctx.ws.findMessage(channel.id, threadTs);
      if (root) root.threadTs = root.ts;
    }
    const message = ctx.ws.newMessage({
      channel: channel.id,
      text,
      ...ctx.ws.botAuthor,
      threadTs,
      files: ids,
    });
    ctx.ws.messages.push(message);
    for (const { file } of files) file.shares.push({ channel: channel.id, ts: message.ts, threadTs });
  }
  return { ok: true, files: files.map(({ file }) => ctx.ws.fileJson(file)) };
};

/** Methods that answer without a token. */
export const UNAUTHENTICATED_METHODS = new Set(['api.test']);

export const METHODS: Record<string, MethodHandler> = {
  'api.test': apiTest,
  'auth.test': authTest,
  'chat.postMessage': chatPostMessage,
  'chat.update': chatUpdate,
  'chat.delete': chatDelete,
  'chat.postEphemeral': chatPostEphemeral,
  'chat.getPermalink': chatGetPermalink,
  'views.open': viewsOpen,
  'views.update': viewsUpdate,
  'views.push': viewsPush,
  'conversations.create': conversationsCreate,
  'conversations.invite': conversationsInvite,
  'conversations.join': conversationsJoin,
  'conversations.setTopic': conversationsSetTopic,
  'conversations.info': conversationsInfo,
  'conversations.members': conversationsMembers,
  'conversations.history': conversationsHistory,
  'conversations.replies': conversationsReplies,
  'conversations.archive': conversationsArchive,
  'conversations.open': conversationsOpen,
  'pins.add': pinsAdd,
  'pins.remove': pinsRemove,
  'pins.list': pinsList,
  'reactions.add': reactionsAdd,
  'reactions.remove': reactionsRemove,
  'users.info': usersInfo,
  'users.conversations': usersConversations,
  'users.lookupByEmail': usersLookupByEmail,
  'usergroups.list': usergroupsList,
  'usergroups.users.list': usergroupsUsersList,
  'team.info': teamInfo,
  'files.getUploadURLExternal': filesGetUploadURLExternal,
  'files.completeUploadExternal': filesCompleteUploadExternal,
};

/** Runs a method; never throws (internal errors answer `fatal_error`). */
export function runMethod(method: string, args: JsonObject, ctx: MethodContext): JsonObject {
  const handler = Object.hasOwn(METHODS, method) ? METHODS[method] : undefined;
  if (!handler) return { ok: false, error: 'unknown_method' };
  try {
    return handler(args, ctx);
  } catch (error) {
    if (error instanceof SlackApiError) return { ok: false, error: error.error, ...error.extra };
    return {
      ok: false,
      error: 'fatal_error',
      response_metadata: { messages: [`[ERROR] ${error instanceof Error ? error.message : String(error)}`] },
    };
  }
}
