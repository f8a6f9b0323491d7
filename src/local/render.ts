/**
 * Renders Slack messages and modals (Block Kit) as readable plain text for a
 * terminal — used by local mode (`npm run slack`) to show what the bot said.
 */

type Json = Record<string, unknown>;

export interface RenderOptions {
  /** Names for user ids (`<@U1>` → `@alice`); without one, `@U1`. */
  users?: Record<string, string>;
  /** Names for channel ids (`<#C1>` → `#incidents`). */
  channels?: Record<string, string>;
  /** Width used for dividers and field columns (default 72). */
  width?: number;
}

export interface RenderableMessage {
  text?: string | undefined;
  blocks?: readonly unknown[] | undefined;
  attachments?: readonly unknown[] | undefined;
}

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function arr(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** Resolves Slack's `<…>` tokens and entities in mrkdwn/plain text. */
export function renderMrkdwn(text: string, options: RenderOptions = {}): string {
  const replaced = text.replace(/<([^<>]+)>/g, (_match, inner: string) => {
    const bar = inner.lastIndexOf('|');
    const target = bar >= 0 ? inner.slice(0, bar) : inner;
    const label = bar >= 0 ? inner.slice(bar + 1) : undefined;
    if (target.startsWith('!date^')) return label ?? '';
    if (target.startsWith('@')) {
      const id = target.slice(1);
      const name = options.users?.[id];
      return name ? `@${name}` : `@${id}`;
    }
    if (target.startsWith('#')) {
      const id = target.slice(1);
      const name = options.channels?.[id] ?? label;
      return `#${name ?? id}`;
    }
    if (target.startsWith('!subteam^')) return label ?? `@${target.slice('!subteam^'.length)}`;
    if (target === '!here' || target === '!channel' || target === '!everyone') return `@${target.slice(1)}`;
    if (target.startsWith('!')) return label ?? target.slice(1);
    if (target.startsWith('mailto:')) return label ?? target.slice('mailto:'.length);
    if (label !== undefined && label !== target) return `${label} (${target})`;
    return target;
  });
  return replaced.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

function textObject(value: unknown, options: RenderOptions): string {
  if (typeof value === 'string') return renderMrkdwn(value, options);
  if (!isRecord(value)) return '';
  const text = str(value.text) ?? '';
  return value.type === 'plain_text' ? text : renderMrkdwn(text, options);
}

/** A one-line rendering of an interactive element: `[ Approve ]`, `[ Region ▾ ]`… */
export function renderElement(value: unknown, options: RenderOptions = {}): string {
  if (!isRecord(value)) return '';
  const type = str(value.type) ?? '';
  const placeholder = textObject(value.placeholder, options);
  switch (type) {
    case 'button':
    case 'workflow_button':
      return `[ ${textObject(value.text, options)} ]`;
    case 'overflow':
      return '[ … ]';
    case 'image':
      return `[image: ${str(value.alt_text) ?? ''}]`;
    case 'mrkdwn':
    case 'plain_text':
      return textObject(value, options);
    case 'datepicker':
      return `[ ${str(value.initial_date) ?? (placeholder || 'pick a date')} ]`;
    case 'timepicker':
      return `[ ${str(value.initial_time) ?? (placeholder || 'pick a time')} ]`;
    case 'plain_text_input':
    case 'email_text_input':
    case 'url_text_input':
    case 'number_input':
    case 'rich_text_input':
      return `[ ${str(value.initial_value) ?? (placeholder || '____________')} ]`;
    case 'checkboxes':
    case 'radio_buttons': {
      const selected = new Set(
        [value.initial_option, ...arr(value.initial_options)].filter(isRecord).map((o) => String(o.value)),
      );
      const mark = (o: Json) =>
        type === 'checkboxes'
          ? `[${selected.has(String(o.value)) ? 'x' : ' '}]`
          : `(${selected.has(String(o.value)) ? '*' : ' '})`;
      return arr(value.options)
        .filter(isRecord)
        .map((o) => `${mark(o)} ${textObject(o.text, options)}`)
        .join('  ');
    }
    default: {
      if (type.endsWith('_select')) {
        const initial = isRecord(value.initial_option)
          ? textObject(value.initial_option.text, options)
          : undefined;
        const who = str(value.initial_user) ?? str(value.initial_conversation) ?? str(value.initial_channel);
        const shown =
          initial ??
          (who ? renderMrkdwn(`<${who.startsWith('U') ? '@' : '#'}${who}>`, options) : placeholder);
        return `[ ${shown || 'select'} ▾ ]`;
      }
      return `[${type}]`;
    }
  }
}

function richText(value: unknown, options: RenderOptions): string {
  if (!isRecord(value)) return '';
  switch (value.type) {
    case 'text':
      return str(value.text) ?? '';
    case 'link':
      return str(value.text) ? `${str(value.text)} (${str(value.url)})` : (str(value.url) ?? '');
    case 'user':
      return renderMrkdwn(`<@${str(value.user_id) ?? ''}>`, options);
    case 'channel':
      return renderMrkdwn(`<#${str(value.channel_id) ?? ''}>`, options);
    case 'usergroup':
      return `@${str(value.usergroup_id) ?? ''}`;
    case 'broadcast':
      return `@${str(value.range) ?? 'here'}`;
    case 'emoji':
      return `:${str(value.name) ?? ''}:`;
    case 'date':
      return str(value.fallback) ?? String(value.timestamp ?? '');
    case 'rich_text_section':
      return arr(value.elements)
        .map((e) => richText(e, options))
        .join('');
    case 'rich_text_list': {
      const ordered = value.style === 'ordered';
      return arr(value.elements)
        .map(
          (e, i) =>
            `${'  '.repeat(Number(value.indent ?? 0))}${ordered ? `${i + 1}.` : '•'} ${richText(e, options)}`,
        )
        .join('\n');
    }
    case 'rich_text_preformatted':
      return arr(value.elements)
        .map((e) => richText(e, options))
        .join('')
        .split('\n')
        .map((l) => `    ${l}`)
        .join('\n');
    case 'rich_text_quote':
      return arr(value.elements)
        .map((e) => richText(e, options))
        .join('')
        .split('\n')
        .map((l) => `> ${l}`)
        .join('\n');
    default:
      return '';
  }
}

function columns(fields: string[], width: number): string[] {
  const half = Math.floor(width / 2);
  const lines: string[] = [];
  for (let i = 0; i < fields.length; i += 2) {
    const left = (fields[i] ?? '').replace(/\n+/g, ' ');
    const right = (fields[i + 1] ?? '').replace(/\n+/g, ' ');
    lines.push(right ? `${left.padEnd(half - 1)} ${right}` : left);
  }
  return lines;
}

function renderBlock(value: unknown, options: RenderOptions): string {
  if (!isRecord(value)) return '';
  const width = options.width ?? 72;
  switch (value.type) {
    case 'header': {
      const text = textObject(value.text, options);
      return `${text}\n${'═'.repeat(Math.min(Math.max(text.length, 3), width))}`;
    }
    case 'section': {
      const lines: string[] = [];
      const text = textObject(value.text, options);
      if (text) lines.push(text);
      lines.push(
        ...columns(
          arr(value.fields).map((f) => textObject(f, options)),
          width,
        ),
      );
      if (value.accessory !== undefined) {
        const accessory = renderElement(value.accessory, options);
        if (lines.length === 0) lines.push(accessory);
        else lines[lines.length - 1] = `${lines[lines.length - 1]}  ${accessory}`;
      }
      return lines.join('\n');
    }
    case 'divider':
      return '─'.repeat(Math.min(width, 40));
    case 'context':
      return arr(value.elements)
        .map((e) => renderElement(e, options))
        .filter(Boolean)
        .join('  ·  ');
    case 'actions':
    case 'context_actions':
      return arr(value.elements)
        .map((e) => renderElement(e, options))
        .join('  ');
    case 'input': {
      const label = textObject(value.label, options);
      const hint = textObject(value.hint, options);
      const optional = value.optional === true ? ' (optional)' : '';
      return `${label}${optional}: ${renderElement(value.element, options)}${hint ? `\n  ${hint}` : ''}`;
    }
    case 'image':
      return `[image: ${str(value.alt_text) ?? ''}]${value.title ? ` ${textObject(value.title, options)}` : ''}`;
    case 'rich_text':
      return arr(value.elements)
        .map((e) => richText(e, options))
        .join('\n');
    case 'markdown':
      return str(value.text) ?? '';
    case 'video':
      return `[video: ${textObject(value.title, options)}]`;
    case 'file':
      return `[file: ${str(value.external_id) ?? ''}]`;
    case 'table':
      return arr(value.rows)
        .map((row) =>
          arr(row)
            .map((cell) =>
              isRecord(cell) && cell.type === 'rich_text'
                ? renderBlock(cell, options)
                : textObject(cell, options),
            )
            .join(' | '),
        )
        .join('\n');
    default:
      return `[${String(value.type)} block]`;
  }
}

/** Renders blocks, one block per paragraph. */
export function renderBlocks(blocks: readonly unknown[], options: RenderOptions = {}): string {
  return blocks
    .map((b) => renderBlock(b, options))
    .filter((s) => s !== '')
    .join('\n');
}

function renderAttachment(value: unknown, options: RenderOptions): string {
  if (!isRecord(value)) return '';
  const parts: string[] = [];
  if (str(value.pretext)) parts.push(renderMrkdwn(str(value.pretext) ?? '', options));
  if (str(value.title)) parts.push(str(value.title) ?? '');
  if (Array.isArray(value.blocks)) parts.push(renderBlocks(value.blocks, options));
  else if (str(value.text)) parts.push(renderMrkdwn(str(value.text) ?? '', options));
  for (const field of arr(value.fields).filter(isRecord)) {
    parts.push(`${str(field.title) ?? ''}: ${renderMrkdwn(str(field.value) ?? '', options)}`);
  }
  if (parts.length === 0 && str(value.fallback)) parts.push(str(value.fallback) ?? '');
  return parts
    .join('\n')
    .split('\n')
    .map((l) => `▌ ${l}`)
    .join('\n');
}

/** A message as a terminal shows it: blocks when present (else text), then attachments. */
export function renderSlackMessage(message: RenderableMessage, options: RenderOptions = {}): string {
  const parts: string[] = [];
  const blocks = message.blocks ?? [];
  if (blocks.length > 0) parts.push(renderBlocks(blocks, options));
  else if (message.text) parts.push(renderMrkdwn(message.text, options));
  for (const attachment of message.attachments ?? []) parts.push(renderAttachment(attachment, options));
  return parts.filter(Boolean).join('\n');
}

/** A modal: title bar, blocks, and its submit/close buttons. */
export function renderSlackView(view: unknown, options: RenderOptions = {}): string {
  if (!isRecord(view)) return '';
  const width = Math.min(options.width ?? 72, 60);
  const title = textObject(view.title, options) || 'Modal';
  const bar = `┌─ ${title} ${'─'.repeat(Math.max(width - title.length - 4, 3))}`;
  const body = renderBlocks(arr(view.blocks), options)
    .split('\n')
    .map((l) => `│ ${l}`)
    .join('\n');
  const close = view.close ?? (isRecord(view.submit) ? { type: 'plain_text', text: 'Cancel' } : undefined);
  const buttons = [close, view.submit]
    .map((b) => (isRecord(b) ? `[ ${textObject(b, options)} ]` : ''))
    .filter(Boolean)
    .join('  ');
  const footer = `└${'─'.repeat(Math.max(width - buttons.length - 2, 3))} ${buttons}`;
  return [bar, body, footer].filter((s) => s !== '').join('\n');
}
