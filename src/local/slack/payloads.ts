/**
 * Builders for the bodies Slack sends to an app: slash command form fields,
 * `block_actions` and `view_submission` interaction payloads (with Slack's
 * `state.values` shapes per element type) and Events API envelopes.
 */
import { randomBytes } from 'node:crypto';
import { type ElementLocation, interactiveElements, optionByValue } from './blocks.ts';
import { asArray, asRecord, asString, cloneJson, type JsonObject, records } from './json.ts';

export interface TeamIdentity {
  teamId: string;
  teamDomain: string;
  apiAppId: string;
  verificationToken: string;
  enterpriseId?: string | undefined;
  enterpriseName?: string | undefined;
}

export interface UserIdentity {
  id: string;
  name: string;
}

/** What the user picked: a string (one value/user/channel/date) or several. */
export type SelectionInput = string | readonly string[] | null;

/** Slack-style action_ts / event_ts: seconds with 6 decimals. */
export function slackTsNow(nowMs: number = Date.now()): string {
  const micros = nowMs * 1000 + (randomBytes(2).readUInt16BE(0) % 1000);
  return `${Math.floor(micros / 1_000_000)}.${String(micros % 1_000_000).padStart(6, '0')}`;
}

export function slackUserJson(user: UserIdentity, team: TeamIdentity): JsonObject {
  return { id: user.id, username: user.name, name: user.name, team_id: team.teamId };
}

function list(input: SelectionInput | undefined): string[] | undefined {
  if (input === undefined || input === null) return undefined;
  return typeof input === 'string' ? [input] : [...input];
}

function pickOption(element: JsonObject, value: string): JsonObject {
  if (element.type === 'external_select' || element.type === 'multi_external_select') {
    return { text: { type: 'plain_text', text: value, emoji: true }, value };
  }
  const option = optionByValue(element, value);
  if (!option) {
    const available = [
      ...records(element.options),
      ...records(element.option_groups).flatMap((g) => records(g.options)),
    ]
      .map((o) => String(o.value))
      .join(', ');
    throw new Error(
      `"${value}" is not an option of ${String(element.type)} action_id "${String(element.action_id)}" (options: ${available || 'none'})`,
    );
  }
  return option;
}

/**
 * The `state.values[block_id][action_id]` entry Slack sends for an element.
 * `input` undefined → the element's initial value (or empty).
 * Returns undefined for elements without state (buttons).
 */
export function elementState(element: JsonObject, input: SelectionInput | undefined): JsonObject | undefined {
  const type = asString(element.type) ?? '';
  const values = list(input);
  const first = values?.[0];
  switch (type) {
    case 'plain_text_input':
    case 'email_text_input':
    case 'url_text_input':
    case 'number_input':
      return {
        type,
        value: input === undefined ? (asString(element.initial_value) ?? null) : (first ?? null),
      };
    case 'static_select':
    case 'external_select':
    case 'radio_buttons':
      return {
        type,
        selected_option:
          input === undefined
            ? (asRecord(element.initial_option) ?? null)
            : first === undefined
              ? null
              : pickOption(element, first),
      };
    case 'multi_static_select':
    case 'multi_external_select':
    case 'checkboxes':
      return {
        type,
        selected_options:
          values === undefined
            ? input === null
              ? []
              : cloneJson(asArray(element.initial_options))
            : values.map((v) => pickOption(element, v)),
      };
    case 'users_select':
      return {
        type,
        selected_user: input === undefined ? (asString(element.initial_user) ?? null) : (first ?? null),
      };
    case 'multi_users_select':
      return { type, selected_users: values ?? (input === null ? [] : asArray(element.initial_users)) };
    case 'conversations_select':
      return {
        type,
        selected_conversation:
          input === undefined ? (asString(element.initial_conversation) ?? null) : (first ?? null),
      };
    case 'multi_conversations_select':
      return {
        type,
        selected_conversations: values ?? (input === null ? [] : asArray(element.initial_conversations)),
      };
    case 'channels_select':
      return {
        type,
        selected_channel: input === undefined ? (asString(element.initial_channel) ?? null) : (first ?? null),
      };
    case 'multi_channels_select':
      return { type, selected_channels: values ?? (input === null ? [] : asArray(element.initial_channels)) };
    case 'datepicker':
      return {
        type,
        selected_date: input === undefined ? (asString(element.initial_date) ?? null) : (first ?? null),
      };
    case 'timepicker':
      return {
        type,
        selected_time: input === undefined ? (asString(element.initial_time) ?? null) : (first ?? null),
      };
    case 'datetimepicker':
      return {
        type,
        selected_date_time:
          input === undefined
            ? typeof element.initial_date_time === 'number'
              ? element.initial_date_time
              : null
            : first === undefined
              ? null
              : Number(first),
      };
    default:
      return undefined;
  }
}

function isEmptyState(state: JsonObject): boolean {
  for (const [key, value] of Object.entries(state)) {
    if (key === 'type') continue;
    if (value === null) return true;
    if (Array.isArray(value) && value.length === 0) return true;
    if (value === '') return true;
  }
  return false;
}

export interface StateValuesOptions {
  /** Throw when a non-optional input block ends up empty (the Slack client would not submit). */
  requireNonOptional?: boolean;
  /** Only these overrides: `{ [block_id]: { [action_id]: selection } }`. */
  values?: Record<string, Record<string, SelectionInput>>;
}

/** `state.values` for a set of blocks, filling Slack's per-type shapes. */
export function stateValues(
  blocks: readonly unknown[],
  options: StateValuesOptions = {},
): Record<string, Record<string, JsonObject>> {
  const out: Record<string, Record<string, JsonObject>> = {};
  const given = options.values ?? {};
  const used = new Set<string>();
  for (const loc of interactiveElements(blocks)) {
    const actionId = asString(loc.element.action_id) ?? '';
    const blockValues = given[loc.blockId];
    const input = blockValues && Object.hasOwn(blockValues, actionId) ? blockValues[actionId] : undefined;
    if (input !== undefined) used.add(`${loc.blockId}/${actionId}`);
    const state = elementState(loc.element, input);
    if (!state) continue;
    if (
      options.requireNonOptional &&
      loc.block.type === 'input' &&
      loc.block.optional !== true &&
      isEmptyState(state)
    ) {
      throw new Error(
        `Required input "${loc.blockId}"/"${actionId}" (${textLabel(loc)}) is empty; Slack would not let the user submit`,
      );
    }
    out[loc.blockId] ??= {};
    const bucket = out[loc.blockId];
    if (bucket) bucket[actionId] = state;
  }
  for (const [blockId, byAction] of Object.entries(given)) {
    for (const actionId of Object.keys(byAction)) {
      if (!used.has(`${blockId}/${actionId}`)) {
        const known = interactiveElements(blocks)
          .map((l) => `${l.blockId}/${String(l.element.action_id)}`)
          .join(', ');
        throw new Error(`No input "${blockId}"/"${actionId}" in the view (inputs: ${known || 'none'})`);
      }
    }
  }
  return out;
}

function textLabel(loc: ElementLocation): string {
  const label = asRecord(loc.block.label);
  return asString(label?.text) ?? String(loc.element.type);
}

/** The `actions[0]` entry of a block_actions payload. */
export function actionJson(
  loc: ElementLocation,
  selection: SelectionInput | undefined,
  actionTs: string,
): JsonObject {
  const el = loc.element;
  const type = asString(el.type) ?? 'button';
  const base: JsonObject = { type, action_id: el.action_id, block_id: loc.blockId };
  if (type === 'button' || type === 'workflow_button') {
    base.text = cloneJson(el.text);
    if (el.value !== undefined) base.value = el.value;
    if (el.style !== undefined) base.style = el.style;
    if (el.url !== undefined) base.url = el.url;
  } else if (type === 'overflow') {
    const first = list(selection)?.[0];
    if (first === undefined)
      throw new Error(`Pick an option of overflow "${String(el.action_id)}" (selected: …)`);
    base.selected_option = pickOption(el, first);
  } else {
    const state = elementState(el, selection);
    if (state) Object.assign(base, state);
    if (el.placeholder !== undefined) base.placeholder = cloneJson(el.placeholder);
  }
  base.action_ts = actionTs;
  return base;
}

export interface BlockActionsInput {
  team: TeamIdentity;
  user: UserIdentity;
  triggerId: string;
  location: ElementLocation;
  selection?: SelectionInput | undefined;
  actionTs?: string;
  /** Source: a message… */
  message?:
    | {
        channelId: string;
        channelName: string;
        ts: string;
        threadTs?: string | undefined;
        ephemeral: boolean;
        json: JsonObject;
        blocks: JsonObject[];
        responseUrl: string;
      }
    | undefined;
  /** …or a view. */
  view?: { json: JsonObject } | undefined;
}

export function buildBlockActionsPayload(input: BlockActionsInput): JsonObject {
  const { team, user } = input;
  const actionTs = input.actionTs ?? slackTsNow();
  const payload: JsonObject = {
    type: 'block_actions',
    user: slackUserJson(user, team),
    api_app_id: team.apiAppId,
    token: team.verificationToken,
  };
  const action = actionJson(input.location, input.selection, actionTs);
  const actionId = asString(input.location.element.action_id) ?? '';
  if (input.message) {
    const m = input.message;
    const container: JsonObject = {
      type: 'message',
      message_ts: m.ts,
      channel_id: m.channelId,
      is_ephemeral: m.ephemeral,
    };
    if (m.threadTs && m.threadTs !== m.ts) container.thread_ts = m.threadTs;
    payload.container = container;
    payload.trigger_id = input.triggerId;
    payload.team = { id: team.teamId, domain: team.teamDomain };
    payload.enterprise = team.enterpriseId
      ? { id: team.enterpriseId, name: team.enterpriseName ?? '' }
      : null;
    payload.is_enterprise_install = false;
    payload.channel = { id: m.channelId, name: m.channelName };
    // Slack leaves `message` out for ephemeral messages.
    if (!m.ephemeral) payload.message = cloneJson(m.json);
    payload.state = {
      values: stateValues(m.blocks, { values: selectionOverride(input.location, actionId, input.selection) }),
    };
    payload.response_url = m.responseUrl;
  } else if (input.view) {
    const view = cloneJson(input.view.json);
    const blocks = asArray(view.blocks);
    view.state = {
      values: stateValues(blocks, { values: selectionOverride(input.location, actionId, input.selection) }),
    };
    payload.container = { type: 'view', view_id: view.id };
    payload.trigger_id = input.triggerId;
    payload.team = { id: team.teamId, domain: team.teamDomain };
    payload.enterprise = team.enterpriseId
      ? { id: team.enterpriseId, name: team.enterpriseName ?? '' }
      : null;
    payload.is_enterprise_install = false;
    payload.view = view;
  }
  payload.actions = [action];
  return payload;
}

function selectionOverride(
  loc: ElementLocation,
  actionId: string,
  selection: SelectionInput | undefined,
): Record<string, Record<string, SelectionInput>> {
  if (selection === undefined || loc.element.type === 'button' || loc.element.type === 'overflow') return {};
  return { [loc.blockId]: { [actionId]: selection } };
}

export interface ViewSubmissionInput {
  team: TeamIdentity;
  user: UserIdentity;
  triggerId: string;
  view: JsonObject;
  values?: Record<string, Record<string, SelectionInput>>;
  requireNonOptional?: boolean;
  /** Mints response URLs for conversation selects with `response_url_enabled`. */
  responseUrlFor?: (channelId: string) => string;
}

export function buildViewSubmissionPayload(input: ViewSubmissionInput): JsonObject {
  const { team, user } = input;
  const view = cloneJson(input.view);
  const blocks = asArray(view.blocks);
  const values = stateValues(blocks, {
    values: input.values ?? {},
    requireNonOptional: input.requireNonOptional ?? true,
  });
  view.state = { values };
  const responseUrls: JsonObject[] = [];
  for (const loc of interactiveElements(blocks)) {
    if (loc.element.response_url_enabled !== true || !input.responseUrlFor) continue;
    const actionId = asString(loc.element.action_id) ?? '';
    const state = values[loc.blockId]?.[actionId];
    const channelId = asString(state?.selected_conversation) ?? asString(state?.selected_channel);
    if (channelId) {
      responseUrls.push({
        block_id: loc.blockId,
        action_id: actionId,
        channel_id: channelId,
        response_url: input.responseUrlFor(channelId),
      });
    }
  }
  return {
    type: 'view_submission',
    team: { id: team.teamId, domain: team.teamDomain },
    user: slackUserJson(user, team),
    api_app_id: team.apiAppId,
    token: team.verificationToken,
    trigger_id: input.triggerId,
    view,
    response_urls: responseUrls,
    is_enterprise_install: false,
    enterprise: team.enterpriseId ? { id: team.enterpriseId, name: team.enterpriseName ?? '' } : null,
  };
}

export interface SlashCommandFields {
  team: TeamIdentity;
  user: UserIdentity;
  channelId: string;
  channelName: string;
  command: string;
  text: string;
  responseUrl: string;
  triggerId: string;
}

/** The slash command body, with Slack's field order, form-encoded. */
export function buildSlashCommandBody(f: SlashCommandFields): string {
  const params = new URLSearchParams();
  params.set('token', f.team.verificationToken);
  params.set('team_id', f.team.teamId);
  params.set('team_domain', f.team.teamDomain);
  if (f.team.enterpriseId) {
    params.set('enterprise_id', f.team.enterpriseId);
    params.set('enterprise_name', f.team.enterpriseName ?? '');
  }
  params.set('channel_id', f.channelId);
  params.set('channel_name', f.channelName);
  params.set('user_id', f.user.id);
  params.set('user_name', f.user.name);
  params.set('command', f.command);
  params.set('text', f.text);
  params.set('api_app_id', f.team.apiAppId);
  params.set('is_enterprise_install', 'false');
  params.set('response_url', f.responseUrl);
  params.set('trigger_id', f.triggerId);
  return params.toString();
}

/** A random Events API event id like `Ev08MFMKH6`. */
export function eventId(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  return `Ev${Array.from(randomBytes(9), (b) => alphabet[b % alphabet.length]).join('')}`;
}

export function buildEventEnvelope(
  team: TeamIdentity,
  botUserId: string,
  event: JsonObject,
  options: { eventId?: string | undefined; eventTime?: number | undefined } = {},
): JsonObject {
  const nowMs = Date.now();
  const filled: JsonObject = { ...event };
  if (filled.event_ts === undefined) filled.event_ts = asString(filled.ts) ?? slackTsNow(nowMs);
  return {
    token: team.verificationToken,
    team_id: team.teamId,
    context_team_id: team.teamId,
    context_enterprise_id: team.enterpriseId ?? null,
    api_app_id: team.apiAppId,
    event: filled,
    type: 'event_callback',
    event_id: options.eventId ?? eventId(),
    event_time: options.eventTime ?? Math.floor(nowMs / 1000),
    authorizations: [
      {
        enterprise_id: team.enterpriseId ?? null,
        team_id: team.teamId,
        user_id: botUserId,
        is_bot: true,
        is_enterprise_install: false,
      },
    ],
    is_ext_shared_channel: false,
    event_context: `4-${Buffer.from(JSON.stringify({ t: team.teamId, e: filled.type })).toString('base64url')}`,
  };
}
