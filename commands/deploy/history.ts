import type { KnownBlock } from '@slack/types';
import { parseTarget } from '../../src/slack/deploy/args.ts';
import { ROLLBACK_TO_ACTION } from '../../src/slack/deploy/blocks/card.ts';
import { usageError } from '../../src/slack/deploy/subcommand.ts';
import type { Subcommand } from '../../src/slack/kit/command.ts';
import { escapeMrkdwn } from '../../src/slack/kit/escape.ts';

const USAGE = 'history <service> [environment] [N]';

/** `/deploy history`: revisions newest first; each older one can be rolled back to (same card). */
export const deployHistory: Subcommand = {
  name: 'history',
  usage: USAGE,
  summary: 'revisions newest first, each older one with "Roll back to this"',
  async run(invocation) {
    const { service, rest } = parseTarget(invocation.services, 'history', USAGE, invocation.args);
    const [n, ...extra] = rest;
    if (extra.length > 0 || (n !== undefined && !/^\d{1,2}$/.test(n))) throw usageError(USAGE);
    await invocation.ack();
    const platform = await invocation.services.platforms.for(service);
    const revisions = await platform.history(Math.max(1, Math.min(20, Number(n ?? 10))));
    const line = (r: (typeof revisions)[number]) =>
      `${r.current ? ':arrow_forward: *current* ' : ''}\`${escapeMrkdwn(r.id)}\` · \`${escapeMrkdwn(r.image ?? 'unknown')}\` · ${r.createdAt ? r.createdAt.toISOString().replace('T', ' ').slice(0, 16) : 'unknown'} UTC${r.cause ? ` · ${escapeMrkdwn(r.cause)}` : ''}`;
    const blocks: KnownBlock[] = [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: `*${escapeMrkdwn(service.name)}* (${escapeMrkdwn(service.environment)}): revisions, newest first`,
        },
      },
      ...revisions.map(
        (r): KnownBlock => ({
          type: 'section',
          text: { type: 'mrkdwn', text: line(r) },
          ...(r.current
            ? {}
            : {
                accessory: {
                  type: 'button',
                  action_id: ROLLBACK_TO_ACTION,
                  text: { type: 'plain_text', text: 'Roll back to this' },
                  value: `${service.name}/${service.environment}/${r.id}`,
                },
              }),
        }),
      ),
    ];
    const text = [`${service.name} (${service.environment}) revisions:`, ...revisions.map(line)].join('\n');
    await invocation.reply({ text, blocks });
  },
};
