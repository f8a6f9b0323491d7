/** Slack channel names: lowercase, letters, digits, `-` and `_`, at most 80 characters. */
export const MAX_CHANNEL_NAME = 80;

/** A slug of free text for a channel name: "Checkout returns 500s!" → "checkout-returns-500s". */
export function slugify(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[-_]+|[-_]+$/g, '');
}

function clean(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[-_]+|[-_]+$/g, '');
}

/**
 * The channel name from the configured template (`inc-{id}-{slug}`), valid for Slack; `attempt` > 1
 * appends a suffix (`-2`) for when the name is taken, keeping within 80 characters.
 */
export function incidentChannelName(
  template: string,
  values: { id: number; title: string; severity: string },
  attempt = 1,
): string {
  const suffix = attempt > 1 ? `-${attempt}` : '';
  const withoutSlug = clean(
    template
      .replaceAll('{id}', String(values.id))
      .replaceAll('{severity}', values.severity)
      .replaceAll('{slug}', ''),
  );
  const room = Math.max(0, MAX_CHANNEL_NAME - withoutSlug.length - suffix.length - 1);
  const slug = slugify(values.title)
    .slice(0, room)
    .replace(/[-_]+$/, '');
  const name = clean(
    template
      .replaceAll('{id}', String(values.id))
      .replaceAll('{severity}', values.severity)
      .replaceAll('{slug}', slug),
  );
  return `${name.slice(0, MAX_CHANNEL_NAME - suffix.length).replace(/[-_]+$/, '')}${suffix}`;
}
