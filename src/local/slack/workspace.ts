/**
 * The simulated Slack workspace: team, users, channels, messages (with
 * threads, reactions, pins), ephemeral messages, modals, trigger ids and
 * response URLs. Pure in-memory state; the HTTP layer lives in server.ts.
 */
import { randomBytes } from 'node:crypto';
import { randomShortId } from './blocks.ts';
import { cloneJson, type JsonObject } from './json.ts';

export interface SimClock {
  now(): Date;
}

export interface SimTeam {
  id: string;
  name: string;
  domain: string;
}

export interface SimBot {
  userId: string;
  botId: string;
  appId: string;
  name: string;
}

export interface SimUserInput {
  id: string;
  name: string;
  realName?: string;
  displayName?: string;
  tz?: string;
  tzLabel?: string;
  tzOffset?: number;
  email?: string;
  title?: string;
  isAdmin?: boolean;
  isBot?: boolean;
  deleted?: boolean;
  /** A guest: `multi` is a multi-channel guest (is_restricted), `single` a single-channel one (is_ultra_restricted). */
  guest?: 'multi' | 'single';
}

export interface SimUser {
  id: string;
  name: string;
  realName: string;
  displayName: string;
  tz: string;
  tzLabel: string;
  tzOffset: number;
  email: string;
  title: string;
  isAdmin: boolean;
  isBot: boolean;
  botId: string | undefined;
  deleted: boolean;
  guest: 'multi' | 'single' | undefined;
}

export interface SimChannelInput {
  id: string;
  name: string;
  isPrivate?: boolean;
  /** Member user ids. Defaults to every default user plus the bot. */
  members?: string[];
  topic?: string;
  purpose?: string;
}

export interface SimChannel {
  id: string;
  name: string;
  isPrivate: boolean;
  isArchived: boolean;
  isIm: boolean;
  /** For IMs: the other user. */
  imUser: string | undefined;
  created: number;
  creator: string;
  topic: { value: string; creator: string; last_set: number };
  purpose: { value: string; creator: string; last_set: number };
  members: Set<string>;
}

export interface SimUsergroup {
  id: string;
  handle: string;
  name: string;
  users: string[];
}

export interface SimReaction {
  name: string;
  users: string[];
}

export interface SimMessage {
  channel: string;
  ts: string;
  text: string;
  blocks: JsonObject[] | undefined;
  attachments: JsonObject[] | undefined;
  metadata: JsonObject | undefined;
  user: string;
  botId: string | undefined;
  appId: string | undefined;
  subtype: string | undefined;
  /** Thread root ts for replies (absent on top-level messages and roots without replies). */
  threadTs: string | undefined;
  replyBroadcast: boolean;
  edited: { user: string; ts: string } | undefined;
  reactions: SimReaction[];
  pinned: boolean;
  deleted: boolean;
  /** Ids of the files shared with this message (files.completeUploadExternal). */
  files?: string[] | undefined;
}

/** A file of the external upload flow: files.getUploadURLExternal, the upload URL, files.completeUploadExternal. */
export interface SimFile {
  id: string;
  /** The secret part of its upload URL. */
  uploadToken: string;
  name: string;
  title: string;
  /** Bytes announced to files.getUploadURLExternal; the upload must send exactly these many. */
  length: number;
  altTxt: string | undefined;
  snippetType: string | undefined;
  /** Who uploaded it (the bot). */
  user: string;
  /** Epoch seconds. */
  created: number;
  /** The bytes posted to the upload URL; undefined until then. */
  content: Buffer | undefined;
  /** files.completeUploadExternal was called (once only). */
  completed: boolean;
  /** Where it was shared: none means private to the uploader. */
  shares: { channel: string; ts: string; threadTs: string | undefined }[];
}

export interface SimEphemeral {
  channel: string;
  ts: string;
  /** The only user who can see this message. */
  user: string;
  text: string;
  blocks: JsonObject[] | undefined;
  threadTs: string | undefined;
  source: 'chat.postEphemeral' | 'response_url';
  deleted: boolean;
}

export interface SimView {
  id: string;
  hash: string;
  userId: string;
  /** The view as Slack returns it (with ids filled in and `state`). */
  view: JsonObject;
  rootViewId: string;
  previousViewId: string | null;
  externalId: string;
  openedAt: number;
  closed: boolean;
}

export interface SimTrigger {
  id: string;
  issuedAt: number;
  userId: string | undefined;
  viewId: string | undefined;
  used: boolean;
}

export interface ResponseUrlContext {
  /** The channel the interaction happened in. */
  channelId?: string | undefined;
  userId?: string | undefined;
  /** The message a button was clicked on (for replace_original / delete_original). */
  messageTs?: string | undefined;
  isEphemeral?: boolean | undefined;
  threadTs?: string | undefined;
  source?: 'command' | 'block_actions' | 'view_submission' | 'manual' | undefined;
}

export interface SimResponseUrl {
  id: string;
  url: string;
  createdAt: number;
  uses: number;
  context: ResponseUrlContext;
}

export const DEFAULT_TEAM: SimTeam = { id: 'T_RUNBOOK', name: 'Runbook Sim', domain: 'runbook-sim' };
export const DEFAULT_BOT: SimBot = {
  userId: 'U_RUNBOOK',
  botId: 'B_RUNBOOK',
  appId: 'A_RUNBOOK',
  name: 'runbook',
};

export const DEFAULT_USERS: SimUserInput[] = [
  {
    id: 'U_ALICE',
    name: 'alice',
    realName: 'Alice Anders',
    displayName: 'alice',
    tz: 'Europe/London',
    tzLabel: 'Greenwich Mean Time',
    tzOffset: 0,
    title: 'SRE',
    isAdmin: true,
  },
  {
    id: 'U_BOB',
    name: 'bob',
    realName: 'Bob Brown',
    displayName: 'bob',
    tz: 'America/New_York',
    tzLabel: 'Eastern Standard Time',
    tzOffset: -18000,
    title: 'Backend engineer',
  },
  {
    id: 'U_CAROL',
    name: 'carol',
    realName: 'Carol Chen',
    displayName: 'carol',
    tz: 'Asia/Tokyo',
    tzLabel: 'Japan Standard Time',
    tzOffset: 32400,
    title: 'Engineering manager',
  },
  {
    id: 'U_DAN',
    name: 'dan',
    realName: 'Dan Diaz',
    displayName: 'dan',
    tz: 'America/Los_Angeles',
    tzLabel: 'Pacific Standard Time',
    tzOffset: -28800,
    title: 'Frontend engineer',
  },
];

export const DEFAULT_CHANNELS: SimChannelInput[] = [
  {
    id: 'C_INCIDENTS',
    name: 'incidents',
    topic: 'Incident coordination',
    purpose: 'Declare and run incidents',
  },
  { id: 'C_DEPLOYMENTS', name: 'deployments', topic: 'Deploys', purpose: 'Deployment announcements' },
  { id: 'C_GENERAL', name: 'general' },
];

export const DEFAULT_USERGROUPS: SimUsergroup[] = [
  { id: 'S_ONCALL', handle: 'oncall', name: 'On-call', users: ['U_ALICE', 'U_BOB'] },
  { id: 'S_SRE', handle: 'sre', name: 'SRE', users: ['U_ALICE'] },
];

export interface WorkspaceOptions {
  team?: Partial<SimTeam>;
  bot?: Partial<SimBot>;
  users?: SimUserInput[];
  channels?: SimChannelInput[];
  usergroups?: SimUsergroup[];
  clock?: SimClock;
}

const UPPER_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** A Slack-looking id: prefix + 10 upper-case alphanumerics. */
export function slackId(prefix: string, length = 10): string {
  const bytes = randomBytes(length);
  let out = prefix;
  for (const byte of bytes) out += UPPER_ALNUM[byte % UPPER_ALNUM.length];
  return out;
}

/** Compare two Slack ts strings numerically (they are fixed-width decimals in practice). */
export function compareTs(a: string, b: string): number {
  const [as = '0', af = '0'] = a.split('.');
  const [bs = '0', bf = '0'] = b.split('.');
  const d = Number(as) - Number(bs);
  if (d !== 0) return d;
  return Number(af.padEnd(6, '0')) - Number(bf.padEnd(6, '0'));
}

function toUser(input: SimUserInput): SimUser {
  return {
    id: input.id,
    name: input.name,
    realName: input.realName ?? input.name,
    displayName: input.displayName ?? input.name,
    tz: input.tz ?? 'Etc/UTC',
    tzLabel: input.tzLabel ?? 'Coordinated Universal Time',
    tzOffset: input.tzOffset ?? 0,
    email: input.email ?? `${input.name}@example.com`,
    title: input.title ?? '',
    isAdmin: input.isAdmin ?? false,
    isBot: input.isBot ?? false,
    botId: undefined,
    deleted: input.deleted ?? false,
    guest: input.guest,
  };
}

export class Workspace {
  readonly team: SimTeam;
  readonly bot: SimBot;
  readonly clock: SimClock;
  users = new Map<string, SimUser>();
  channels = new Map<string, SimChannel>();
  usergroups = new Map<string, SimUsergroup>();
  /** All messages in posting order (across channels). */
  messages: SimMessage[] = [];
  ephemerals: SimEphemeral[] = [];
  views = new Map<string, SimView>();
  triggers = new Map<string, SimTrigger>();
  responseUrls = new Map<string, SimResponseUrl>();
  /** Files by id, in upload order. */
  files = new Map<string, SimFile>();
  #lastTsMicros = 0;
  readonly #options: WorkspaceOptions;

  constructor(options: WorkspaceOptions = {}) {
    this.#options = options;
    this.team = { ...DEFAULT_TEAM, ...options.team };
    this.bot = { ...DEFAULT_BOT, ...options.bot };
    this.clock = options.clock ?? { now: () => new Date() };
    this.seed();
  }

  nowMs(): number {
    return this.clock.now().getTime();
  }

  nowSec(): number {
    return Math.floor(this.nowMs() / 1000);
  }

  /** A fresh message ts, strictly increasing across the workspace. */
  nextTs(): string {
    const micros = Math.max(this.nowMs() * 1000, this.#lastTsMicros + 1);
    this.#lastTsMicros = micros;
    const sec = Math.floor(micros / 1_000_000);
    const frac = String(micros % 1_000_000).padStart(6, '0');
    return `${sec}.${frac}`;
  }

  /**
   * A new message stamped now, with what a fresh post leaves empty (no blocks, edits, reactions or
   * thread); `fields` give the rest. Not stored: the caller pushes it where it belongs.
   */
  newMessage(fields: Pick<SimMessage, 'channel' | 'text' | 'user'> & Partial<SimMessage>): SimMessage {
    return {
      ts: this.nextTs(),
      blocks: undefined,
      attachments: undefined,
      metadata: undefined,
      botId: undefined,
      appId: undefined,
      subtype: undefined,
      threadTs: undefined,
      replyBroadcast: false,
      edited: undefined,
      reactions: [],
      pinned: false,
      deleted: false,
      ...fields,
    };
  }

  /** Who the bot's own messages are by. */
  get botAuthor(): Pick<SimMessage, 'user' | 'botId' | 'appId'> {
    return { user: this.bot.userId, botId: this.bot.botId, appId: this.bot.appId };
  }

  /** Clears all state and re-seeds the configured users and channels. */
  seed(): void {
    this.users.clear();
    this.channels.clear();
    this.usergroups.clear();
    this.messages = [];
    this.ephemerals = [];
    this.views.clear();
    this.triggers.clear();
    this.responseUrls.clear();
    this.files.clear();
    for (const input of this.#options.users ?? DEFAULT_USERS) this.users.set(input.id, toUser(input));
    const botUser = toUser({
      id: this.bot.userId,
      name: this.bot.name,
      realName: this.bot.name,
      isBot: true,
    });
    botUser.botId = this.bot.botId;
    this.users.set(botUser.id, botUser);
    const humans = [...this.users.values()].filter((u) => !u.isBot).map((u) => u.id);
    for (const input of this.#options.channels ?? DEFAULT_CHANNELS) {
      this.addChannel({
        ...input,
        members: input.members ?? [...humans, this.bot.userId],
      });
    }
    for (const group of this.#options.usergroups ?? DEFAULT_USERGROUPS) {
      this.usergroups.set(group.id, { ...group, users: [...group.users] });
    }
  }

  addUser(input: SimUserInput): SimUser {
    const user = toUser(input);
    this.users.set(user.id, user);
    return user;
  }

  addChannel(input: SimChannelInput & { creator?: string }): SimChannel {
    const now = this.nowSec();
    const creator = input.creator ?? this.bot.userId;
    const channel: SimChannel = {
      id: input.id,
      name: input.name,
      isPrivate: input.isPrivate ?? false,
      isArchived: false,
      isIm: false,
      imUser: undefined,
      created: now,
      creator,
      topic: {
        value: input.topic ?? '',
        creator: input.topic ? creator : '',
        last_set: input.topic ? now : 0,
      },
      purpose: {
        value: input.purpose ?? '',
        creator: input.purpose ? creator : '',
        last_set: input.purpose ? now : 0,
      },
      members: new Set(input.members ?? [this.bot.userId]),
    };
    this.channels.set(channel.id, channel);
    return channel;
  }

  /** The IM channel between the bot and a user (created on first use, like conversations.open). */
  imWith(userId: string): SimChannel {
    for (const channel of this.channels.values()) {
      if (channel.isIm && channel.imUser === userId) return channel;
    }
    const channel = this.addChannel({ id: `D${userId.replace(/^U_?/, '_')}`, name: userId, isPrivate: true });
    channel.isIm = true;
    channel.imUser = userId;
    channel.members = new Set([userId, this.bot.userId]);
    return channel;
  }

  /** Resolves a `channel` argument: an id, a `#name`/name, or a user id (→ IM). */
  resolveChannel(ref: string): SimChannel | undefined {
    const byId = this.channels.get(ref);
    if (byId) return byId;
    if (this.users.has(ref)) return this.imWith(ref);
    const name = ref.startsWith('#') ? ref.slice(1) : ref;
    for (const channel of this.channels.values()) {
      if (!channel.isIm && channel.name === name) return channel;
    }
    return undefined;
  }

  channelByName(name: string): SimChannel | undefined {
    for (const channel of this.channels.values()) if (!channel.isIm && channel.name === name) return channel;
    return undefined;
  }

  findMessage(channelId: string, ts: string): SimMessage | undefined {
    return this.messages.find((m) => m.channel === channelId && m.ts === ts && !m.deleted);
  }

  findEphemeral(channelId: string | undefined, ts: string): SimEphemeral | undefined {
    return this.ephemerals.find((m) => (channelId === undefined || m.channel === channelId) && m.ts === ts);
  }

  /** Replies of a thread root, oldest first. */
  repliesOf(channelId: string, rootTs: string): SimMessage[] {
    return this.messages.filter(
      (m) => m.channel === channelId && m.threadTs === rootTs && m.ts !== rootTs && !m.deleted,
    );
  }

  mintTrigger(context: { userId?: string | undefined; viewId?: string | undefined } = {}): SimTrigger {
    const digits = (n: number) => Array.from(randomBytes(n), (b) => String(b % 10)).join('');
    const id = `${digits(13)}.${digits(12)}.${randomBytes(16).toString('hex')}`;
    const trigger: SimTrigger = {
      id,
      issuedAt: this.nowMs(),
      userId: context.userId,
      viewId: context.viewId,
      used: false,
    };
    this.triggers.set(id, trigger);
    return trigger;
  }

  mintResponseUrl(baseUrl: string, context: ResponseUrlContext): SimResponseUrl {
    const id = `${this.team.id}/${Array.from(randomBytes(6), (b) => String(b % 10)).join('')}/${randomShortId(24)}`;
    const record: SimResponseUrl = {
      id,
      url: `${baseUrl}/response/${id}`,
      createdAt: this.nowMs(),
      uses: 0,
      context: { ...context },
    };
    this.responseUrls.set(id, record);
    return record;
  }

  /** The message as the Web API returns it (history, replies, postMessage's `message`). */
  messageJson(message: SimMessage): JsonObject {
    const out: JsonObject = { type: 'message' };
    if (message.subtype) out.subtype = message.subtype;
    out.text = message.text;
    out.user = message.user;
    if (message.botId) {
      out.bot_id = message.botId;
      out.app_id = message.appId;
      out.bot_profile = {
        id: message.botId,
        app_id: message.appId,
        name: this.bot.name,
        deleted: false,
        team_id: this.team.id,
      };
    }
    out.ts = message.ts;
    out.team = this.team.id;
    if (message.blocks) out.blocks = cloneJson(message.blocks);
    if (message.attachments) out.attachments = cloneJson(message.attachments);
    if (message.metadata) out.metadata = cloneJson(message.metadata);
    if (message.edited) out.edited = { ...message.edited };
    if (message.threadTs) {
      out.thread_ts = message.threadTs;
      if (message.threadTs === message.ts) {
        const replies = this.repliesOf(message.channel, message.ts);
        const replyUsers = [...new Set(replies.map((r) => r.user))];
        out.reply_count = replies.length;
        out.reply_users_count = replyUsers.length;
        out.latest_reply = replies.at(-1)?.ts ?? message.ts;
        out.reply_users = replyUsers;
        out.is_locked = false;
        out.subscribed = false;
      } else {
        const root = this.findMessage(message.channel, message.threadTs);
        if (root) out.parent_user_id = root.user;
      }
    }
    if (message.reactions.length > 0) {
      out.reactions = message.reactions.map((r) => ({
        name: r.name,
        users: [...r.users],
        count: r.users.length,
      }));
    }
    if (message.pinned) out.pinned_to = [message.channel];
    if (message.files && message.files.length > 0) {
      out.files = message.files.flatMap((id) => {
        const file = this.files.get(id);
        return file ? [this.fileJson(file)] : [];
      });
      out.upload = true;
      out.display_as_bot = false;
    }
    return out;
  }

  /** Starts an upload (files.getUploadURLExternal): the file exists, private, without content. */
  addFile(input: {
    name: string;
    length: number;
    altTxt?: string | undefined;
    snippetType?: string | undefined;
  }): SimFile {
    const file: SimFile = {
      id: slackId('F'),
      uploadToken: randomBytes(24).toString('base64url'),
      name: input.name,
      title: input.name,
      length: input.length,
      altTxt: input.altTxt,
      snippetType: input.snippetType,
      user: this.bot.userId,
      created: this.nowSec(),
      content: undefined,
      completed: false,
      shares: [],
    };
    this.files.set(file.id, file);
    return file;
  }

  fileByUploadToken(token: string): SimFile | undefined {
    for (const file of this.files.values()) if (file.uploadToken === token) return file;
    return undefined;
  }

  /** The file object as the Web API returns it (files.completeUploadExternal, a message's `files`). */
  fileJson(file: SimFile): JsonObject {
    const kind = fileKind(file.name, file.snippetType);
    const shares: { public: JsonObject; private: JsonObject } = { public: {}, private: {} };
    const channels: string[] = [];
    const groups: string[] = [];
    const ims: string[] = [];
    for (const share of file.shares) {
      const channel = this.channels.get(share.channel);
      if (!channel) continue;
      const isPublic = !channel.isPrivate && !channel.isIm;
      (isPublic ? channels : channel.isIm ? ims : groups).push(channel.id);
      const bucket = isPublic ? shares.public : shares.private;
      const list = Array.isArray(bucket[channel.id]) ? (bucket[channel.id] as JsonObject[]) : [];
      list.push({
        reply_users: [],
        reply_users_count: 0,
        reply_count: 0,
        ts: share.ts,
        ...(share.threadTs ? { thread_ts: share.threadTs } : {}),
        channel_name: channel.isIm ? channel.imUser : channel.name,
        team_id: this.team.id,
        share_user_id: file.user,
        source: 'UNKNOWN',
      });
      bucket[channel.id] = list;
    }
    const path = `${this.team.id}-${file.id}/${encodeURIComponent(file.name)}`;
    const out: JsonObject = {
      id: file.id,
      created: file.created,
      timestamp: file.created,
      name: file.name,
      title: file.title,
      mimetype: kind.mimetype,
      filetype: kind.filetype,
      pretty_type: kind.prettyType,
      user: file.user,
      user_team: this.team.id,
      editable: kind.editable,
      size: file.content?.length ?? file.length,
      mode: kind.editable ? 'snippet' : 'hosted',
      is_external: false,
      external_type: '',
      is_public: channels.length > 0,
      public_url_shared: false,
      display_as_bot: false,
      username: '',
      url_private: `https://files.slack.com/files-pri/${path}`,
      url_private_download: `https://files.slack.com/files-pri/${this.team.id}-${file.id}/download/${encodeURIComponent(file.name)}`,
      permalink: `https://${this.team.domain}.slack.com/files/${file.user}/${file.id}/${encodeURIComponent(file.name)}`,
      permalink_public: `https://slack-files.com/${this.team.id}-${file.id}`,
      comments_count: 0,
      is_starred: false,
      shares: file.shares.length > 0 ? shares : {},
      channels,
      groups,
      ims,
      has_more_shares: false,
      has_rich_preview: false,
      file_access: 'visible',
    };
    if (file.altTxt !== undefined) out.alt_txt = file.altTxt;
    return out;
  }

  channelJson(channel: SimChannel, options: { includeNumMembers?: boolean } = {}): JsonObject {
    const out: JsonObject = {
      id: channel.id,
      name: channel.name,
      is_channel: !channel.isIm && !channel.isPrivate,
      is_group: !channel.isIm && channel.isPrivate,
      is_im: channel.isIm,
      is_mpim: false,
      is_private: channel.isPrivate,
      created: channel.created,
      is_archived: channel.isArchived,
      is_general: channel.name === 'general',
      unlinked: 0,
      name_normalized: channel.name,
      is_shared: false,
      is_org_shared: false,
      is_ext_shared: false,
      is_pending_ext_shared: false,
      is_member: channel.members.has(this.bot.userId),
      creator: channel.creator,
      context_team_id: this.team.id,
      topic: { ...channel.topic },
      purpose: { ...channel.purpose },
      previous_names: [],
    };
    if (channel.isIm) out.user = channel.imUser;
    if (options.includeNumMembers) out.num_members = channel.members.size;
    return out;
  }

  userJson(user: SimUser): JsonObject {
    return {
      id: user.id,
      team_id: this.team.id,
      name: user.name,
      deleted: user.deleted,
      color: '9f69e7',
      real_name: user.realName,
      tz: user.tz,
      tz_label: user.tzLabel,
      tz_offset: user.tzOffset,
      profile: {
        title: user.title,
        phone: '',
        real_name: user.realName,
        real_name_normalized: user.realName,
        display_name: user.displayName,
        display_name_normalized: user.displayName,
        email: user.email,
        status_text: '',
        status_emoji: '',
        team: this.team.id,
        ...(user.botId ? { bot_id: user.botId, api_app_id: this.bot.appId } : {}),
        image_48: `https://avatars.example.invalid/${user.id}_48.png`,
        image_72: `https://avatars.example.invalid/${user.id}_72.png`,
      },
      is_admin: user.isAdmin,
      is_owner: false,
      is_primary_owner: false,
      is_restricted: user.guest !== undefined,
      is_ultra_restricted: user.guest === 'single',
      is_bot: user.isBot,
      is_app_user: false,
      updated: 1_700_000_000,
    };
  }
}

const FILE_KINDS: Record<
  string,
  { mimetype: string; filetype: string; prettyType: string; editable: boolean }
> = {
  csv: { mimetype: 'text/csv', filetype: 'csv', prettyType: 'CSV', editable: false },
  txt: { mimetype: 'text/plain', filetype: 'text', prettyType: 'Plain Text', editable: true },
  md: { mimetype: 'text/plain', filetype: 'markdown', prettyType: 'Markdown (raw)', editable: true },
  json: { mimetype: 'application/json', filetype: 'json', prettyType: 'JSON', editable: true },
  png: { mimetype: 'image/png', filetype: 'png', prettyType: 'PNG', editable: false },
  pdf: { mimetype: 'application/pdf', filetype: 'pdf', prettyType: 'PDF', editable: false },
};

/** Slack's type of a file, from its name (or the snippet_type given for it). */
function fileKind(name: string, snippetType: string | undefined) {
  const extension = /\.([A-Za-z0-9]+)$/.exec(name)?.[1]?.toLowerCase() ?? '';
  const known = FILE_KINDS[extension];
  if (snippetType) {
    return {
      mimetype: known?.mimetype ?? 'text/plain',
      filetype: snippetType,
      prettyType: snippetType,
      editable: true,
    };
  }
  return (
    known ?? {
      mimetype: 'application/octet-stream',
      filetype: 'binary',
      prettyType: 'Binary',
      editable: false,
    }
  );
}
