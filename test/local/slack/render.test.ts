import { describe, expect, it } from 'vitest';
import { renderMrkdwn, renderSlackMessage, renderSlackView } from '../../../src/local/render.ts';

describe('renderSlackMessage', () => {
  it('renders Block Kit as readable text', () => {
    const out = renderSlackMessage({
      text: 'fallback only',
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: 'SEV1: Database down' } },
        {
          type: 'section',
          text: {
            type: 'mrkdwn',
            text: 'Declared by <@U_ALICE> in <#C_INCIDENTS|incidents> &amp; paged <!subteam^S1|@oncall>',
          },
          accessory: { type: 'button', text: { type: 'plain_text', text: 'Open' }, action_id: 'open' },
        },
        {
          type: 'section',
          fields: [
            { type: 'mrkdwn', text: '*Severity*\nSEV1' },
            {
              type: 'mrkdwn',
              text: '*Started*\n<!date^1767600000^{date_short_pretty} at {time}|Jan 5, 2026 08:00 UTC>',
            },
          ],
        },
        { type: 'divider' },
        {
          type: 'context',
          elements: [{ type: 'mrkdwn', text: 'Runbook: <https://runbooks.example/db|db-down>' }],
        },
        {
          type: 'actions',
          elements: [
            {
              type: 'button',
              text: { type: 'plain_text', text: 'Acknowledge' },
              action_id: 'ack',
              style: 'primary',
            },
            { type: 'button', text: { type: 'plain_text', text: 'Resolve' }, action_id: 'resolve' },
            {
              type: 'static_select',
              action_id: 'sev',
              placeholder: { type: 'plain_text', text: 'Severity' },
              options: [],
            },
          ],
        },
      ],
    });
    const lines = out.split('\n');
    expect(lines[0]).toBe('SEV1: Database down');
    expect(lines[1]).toMatch(/^═+$/);
    expect(out).toContain('Declared by @U_ALICE in #incidents & paged @oncall  [ Open ]');
    expect(out).toMatch(/\*Severity\* SEV1\s+\*Started\* Jan 5, 2026 08:00 UTC/);
    expect(out).toContain('─'.repeat(40));
    expect(out).toContain('Runbook: db-down (https://runbooks.example/db)');
    expect(out).toContain('[ Acknowledge ]  [ Resolve ]  [ Severity ▾ ]');
    expect(out).not.toContain('fallback only');
    expect(out).not.toContain('<!date');
  });

  it('falls back to text, and resolves names when given', () => {
    expect(renderSlackMessage({ text: 'Hi <@U1>, see <!here>' })).toBe('Hi @U1, see @here');
    expect(renderMrkdwn('<@U1> <#C1>', { users: { U1: 'alice' }, channels: { C1: 'incidents' } })).toBe(
      '@alice #incidents',
    );
    expect(renderMrkdwn('<https://x.example>')).toBe('https://x.example');
  });

  it('renders modals with inputs', () => {
    const out = renderSlackView({
      type: 'modal',
      title: { type: 'plain_text', text: 'Declare incident' },
      submit: { type: 'plain_text', text: 'Declare' },
      close: { type: 'plain_text', text: 'Cancel' },
      blocks: [
        {
          type: 'input',
          label: { type: 'plain_text', text: 'Title' },
          element: { type: 'plain_text_input', action_id: 'v' },
        },
        {
          type: 'input',
          optional: true,
          label: { type: 'plain_text', text: 'Notify' },
          element: {
            type: 'checkboxes',
            action_id: 'v',
            options: [{ text: { type: 'plain_text', text: 'Status page' }, value: 's' }],
          },
        },
      ],
    });
    expect(out).toContain('Declare incident');
    expect(out).toContain('│ Title: [ ____________ ]');
    expect(out).toContain('│ Notify (optional): [ ] Status page');
    expect(out).toContain('[ Cancel ]  [ Declare ]');
  });
});
