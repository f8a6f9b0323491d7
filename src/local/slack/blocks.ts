/**
 * Block Kit helpers for the Slack simulator: the limits Slack enforces on
 * blocks (so the bot sees `invalid_blocks` where real Slack would refuse), the
 * `block_id`/`action_id` values Slack fills in, and lookup of interactive
 * elements so the request client can build interaction payloads.
 */
import { randomBytes } from 'node:crypto';
import {
  asArray,
  asRecord,
  asString,
  cloneJson,
  isRecord,
  type JsonObject,
  records,
  textOf,
} from './json.ts';

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A short random id like the ones Slack generates for missing block_id / action_id. */
export function randomShortId(length = 5): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const byte of bytes) out += ID_ALPHABET[byte % ID_ALPHABET.length];
  return out;
}

/** Element types that carry an `action_id` and can send interaction payloads. */
export const INTERACTIVE_ELEMENT_TYPES = new Set([
  'button',
  'static_select',
  'external_select',
  'users_select',
  'conversations_select',
  'channels_select',
  'multi_static_select',
  'multi_external_select',
  'multi_users_select',
  'multi_conversations_select',
  'multi_channels_select',
  'overflow',
  'datepicker',
  'timepicker',
  'datetimepicker',
  'checkboxes',
  'radio_buttons',
  'plain_text_input',
  'email_text_input',
  'url_text_input',
  'number_input',
  'rich_text_input',
  'file_input',
  'workflow_button',
]);

const KNOWN_BLOCK_TYPES = new Set([
  'section',
  'divider',
  'image',
  'actions',
  'context',
  'context_actions',
  'input',
  'header',
  'file',
  'rich_text',
  'video',
  'markdown',
  'call',
  'table',
]);

export interface ElementLocation {
  blockIndex: number;
  blockId: string;
  block: JsonObject;
  element: JsonObject;
  /** JSON pointer of the element inside the blocks array, e.g. `/2/elements/0`. */
  pointer: string;
}

/** Every element with an `action_id`-bearing type, in document order. */
export function interactiveElements(blocks: readonly unknown[]): ElementLocation[] {
  const found: ElementLocation[] = [];
  blocks.forEach((raw, blockIndex) => {
    const block = asRecord(raw);
    if (!block) return;
    const blockId = asString(block.block_id) ?? '';
    const consider = (element: unknown, pointer: string) => {
      const el = asRecord(element);
      if (el && INTERACTIVE_ELEMENT_TYPES.has(asString(el.type) ?? '')) {
        found.push({ blockIndex, blockId, block, element: el, pointer: `/${blockIndex}${pointer}` });
      }
    };
    switch (block.type) {
      case 'actions':
      case 'context_actions':
        asArray(block.elements).forEach((el, i) => {
          consider(el, `/elements/${i}`);
        });
        break;
      case 'section':
        consider(block.accessory, '/accessory');
        break;
      case 'input':
        consider(block.element, '/element');
        break;
      default:
        break;
    }
  });
  return found;
}

/** Finds the element with the given action_id (or, when actionId is absent, the button with the given value). */
export function findElement(
  blocks: readonly unknown[],
  query: { actionId?: string | undefined; value?: string | undefined; blockId?: string | undefined },
): ElementLocation | undefined {
  return interactiveElements(blocks).find((loc) => {
    if (query.blockId !== undefined && loc.blockId !== query.blockId) return false;
    if (query.actionId !== undefined) return loc.element.action_id === query.actionId;
    if (query.value !== undefined) return loc.element.value === query.value;
    return false;
  });
}

/**
 * Returns a copy of `blocks` where every block has a `block_id` and every
 * interactive element has an `action_id`, as Slack fills them in.
 */
export function withGeneratedIds(blocks: readonly unknown[]): JsonObject[] {
  const copy = cloneJson(blocks.filter(isRecord));
  for (const block of copy) {
    if (typeof block.block_id !== 'string' || block.block_id === '') block.block_id = randomShortId(4);
  }
  for (const loc of interactiveElements(copy)) {
    if (typeof loc.element.action_id !== 'string' || loc.element.action_id === '') {
      loc.element.action_id = randomShortId(5);
    }
  }
  return copy;
}

/** Collects Slack-style `[ERROR] … [json-pointer:…]` messages for a blocks array. */
export function validateBlocks(blocks: unknown, options: { max: number; pointer: string }): string[] {
  const errors: string[] = [];
  const err = (message: string, pointer: string) => {
    errors.push(`[ERROR] ${message} [json-pointer:${pointer}]`);
  };
  if (!Array.isArray(blocks)) {
    err('must be an array', options.pointer);
    return errors;
  }
  if (blocks.length > options.max) err(`no more than ${options.max} items allowed`, options.pointer);
  const seenBlockIds = new Set<string>();
  blocks.forEach((raw, i) => {
    const at = `${options.pointer}/${i}`;
    const block = asRecord(raw);
    if (!block) {
      err('must be an object', at);
      return;
    }
    const type = asString(block.type);
    if (!type) {
      err('missing required field: type', at);
      return;
    }
    if (!KNOWN_BLOCK_TYPES.has(type)) {
      err(`unknown block type: ${type}`, `${at}/type`);
      return;
    }
    if (block.block_id !== undefined) {
      const blockId = asString(block.block_id);
      if (blockId === undefined) err('must be a string', `${at}/block_id`);
      else if (blockId.length > 255) err('must be less than 256 characters', `${at}/block_id`);
      else if (seenBlockIds.has(blockId)) err(`duplicate block_id: ${blockId}`, `${at}/block_id`);
      else seenBlockIds.add(blockId);
    }
    validateBlock(type, block, at, err);
  });
  return errors;
}

type ErrFn = (message: string, pointer: string) => void;

function validateTextObject(
  value: unknown,
  at: string,
  err: ErrFn,
  opts: { max: number; plainOnly?: boolean; required?: boolean },
): void {
  if (value === undefined) {
    if (opts.required) err('missing required field: text', at);
    return;
  }
  const text = asRecord(value);
  if (!text) {
    err('must be a text object', at);
    return;
  }
  const type = text.type;
  if (type !== 'plain_text' && type !== 'mrkdwn') err('must be one of plain_text, mrkdwn', `${at}/type`);
  else if (opts.plainOnly && type !== 'plain_text') err('must be plain_text', `${at}/type`);
  const body = asString(text.text);
  if (body === undefined) err('missing required field: text', `${at}/text`);
  else if (body.length === 0) err('must be more than 0 characters', `${at}/text`);
  else if (body.length > opts.max) err(`must be less than ${opts.max + 1} characters`, `${at}/text`);
}

function validateBlock(type: string, block: JsonObject, at: string, err: ErrFn): void {
  switch (type) {
    case 'section': {
      if (block.text === undefined && block.fields === undefined) {
        err('must provide at least one of text or fields', at);
      }
      validateTextObject(block.text, `${at}/text`, err, { max: 3000 });
      if (block.fields !== undefined) {
        const fields = asArray(block.fields);
        if (fields.length > 10) err('no more than 10 items allowed', `${at}/fields`);
        fields.forEach((f, i) => {
          validateTextObject(f, `${at}/fields/${i}`, err, { max: 2000, required: true });
        });
      }
      if (block.accessory !== undefined) validateElement(block.accessory, `${at}/accessory`, err);
      break;
    }
    case 'header':
      validateTextObject(block.text, `${at}/text`, err, { max: 150, plainOnly: true, required: true });
      break;
    case 'actions': {
      const elements = asArray(block.elements);
      if (elements.length === 0) err('must provide at least 1 item', `${at}/elements`);
      if (elements.length > 25) err('no more than 25 items allowed', `${at}/elements`);
      const seen = new Set<string>();
      elements.forEach((el, i) => {
        validateElement(el, `${at}/elements/${i}`, err);
        const actionId = asString(asRecord(el)?.action_id);
        if (actionId !== undefined) {
          if (seen.has(actionId)) err(`duplicate action_id: ${actionId}`, `${at}/elements/${i}/action_id`);
          seen.add(actionId);
        }
      });
      break;
    }
    case 'context': {
      const elements = asArray(block.elements);
      if (elements.length === 0) err('must provide at least 1 item', `${at}/elements`);
      if (elements.length > 10) err('no more than 10 items allowed', `${at}/elements`);
      break;
    }
    case 'input':
      validateTextObject(block.label, `${at}/label`, err, { max: 2000, plainOnly: true, required: true });
      if (block.element === undefined) err('missing required field: element', `${at}/element`);
      else validateElement(block.element, `${at}/element`, err);
      break;
    case 'image':
      if (typeof block.alt_text !== 'string') err('missing required field: alt_text', `${at}/alt_text`);
      break;
    default:
      break;
  }
}

function validateElement(value: unknown, at: string, err: ErrFn): void {
  const el = asRecord(value);
  if (!el) {
    err('must be an object', at);
    return;
  }
  const type = asString(el.type);
  if (!type) {
    err('missing required field: type', at);
    return;
  }
  const actionId = el.action_id;
  if (actionId !== undefined && (typeof actionId !== 'string' || actionId.length > 255)) {
    err('must be a string of at most 255 characters', `${at}/action_id`);
  }
  if (type === 'button') {
    validateTextObject(el.text, `${at}/text`, err, { max: 75, plainOnly: true, required: true });
    const v = el.value;
    if (v !== undefined && (typeof v !== 'string' || v.length > 2000)) {
      err('must be a string of at most 2000 characters', `${at}/value`);
    }
    if (el.style !== undefined && el.style !== 'primary' && el.style !== 'danger') {
      err('must be one of primary, danger', `${at}/style`);
    }
  }
  if (type === 'static_select' || type === 'multi_static_select' || type === 'overflow') {
    const options = el.options;
    const groups = el.option_groups;
    if (options === undefined && groups === undefined) err('must provide options or option_groups', at);
    if (options !== undefined) {
      const list = asArray(options);
      const max = type === 'overflow' ? 5 : 100;
      if (list.length > max) err(`no more than ${max} items allowed`, `${at}/options`);
      list.forEach((opt, i) => {
        const o = asRecord(opt);
        validateTextObject(o?.text, `${at}/options/${i}/text`, err, { max: 75, required: true });
        const ov = o?.value;
        if (typeof ov !== 'string' || ov.length > 150) {
          err('must be a string of at most 150 characters', `${at}/options/${i}/value`);
        }
      });
    }
  }
}

/** All options of a select-like element, flattening option_groups. */
export function elementOptions(element: JsonObject): JsonObject[] {
  const direct = records(element.options);
  const grouped = records(element.option_groups).flatMap((g) => records(g.options));
  return [...direct, ...grouped];
}

/** The option object with the given value, shaped as Slack sends it back in payloads. */
export function optionByValue(element: JsonObject, value: string): JsonObject | undefined {
  const option = elementOptions(element).find((o) => o.value === value);
  return option ? cloneJson(option) : undefined;
}

/** Plain text of a message's blocks (used for searching and rendering in errors). */
export function blocksText(blocks: readonly unknown[]): string {
  return blocks
    .map((b) => {
      const block = asRecord(b);
      if (!block) return '';
      return [textOf(block.text), ...records(block.fields).map(textOf)].filter(Boolean).join(' ');
    })
    .filter(Boolean)
    .join('\n');
}
