import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.ts';
import type { Incident } from '../../src/incidents/incident.ts';
import type { Followup, LinkedOperation } from '../../src/incidents/postmortem.ts';
import { postmortemMarkdown, postmortemTemplate } from '../../src/incidents/postmortem-document.ts';
import type { TimelineEvent } from '../../src/incidents/timeline.ts';
import { placeholders, renderTemplate, TemplateError } from '../../src/util/template.ts';

const at = (minutes: number) => new Date(Date.UTC(2026, 2, 2, 9, minutes));

function incident(overrides: Partial<Incident> = {}): Incident {
  return {
    number: 7,
    title: 'Checkout *down* <here>',
    severity: 'P1',
    status: 'resolved',
    declaredBy: 'U_ALICE',
    commander: 'U_BOB',
    affectedServices: ['barq-api'],
    impact: 'Checkout failed for 30 % of users',
    summary: null,
    channelId: 'C1',
    announcement: null,
    headline: null,
    startedAt: at(0),
    lastUpdateAt: null,
    nextUpdateDueAt: null,
    resolvedAt: at(45),
    resolution: 'Rolled back',
    rootCause: null,
    dedupeKey: null,
    acknowledgedAt: null,
    acknowledgedBy: null,
    escalationLevel: 0,
    mitigatedAt: null,
    createdAt: at(0),
    updatedAt: at(45),
    ...overrides,
  };
}

const event = (id: number, minutes: number, e: Partial<TimelineEvent>): TimelineEvent => ({
  id,
  incidentNumber: 7,
  at: at(minutes),
  actor: 'U_ALICE',
  kind: 'note',
  text: '',
  data: {},
  sourceKey: null,
  createdAt: at(minutes),
  ...e,
});

const op = (o: Partial<LinkedOperation>): LinkedOperation => ({
  id: 'x',
  kind: 'rollback',
  service: 'barq-api',
  environment: 'production',
  state: 'succeeded',
  requestedBy: 'U_BOB',
  reason: null,
  error: null,
  createdAt: at(10),
  finishedAt: at(12),
  ...o,
});

const names: Record<string, string> = { U_ALICE: 'alice', U_BOB: 'Bob B', U_CAROL: 'carol' };
const config = configSchema.parse({});
const p1 = config.severities.find((s) => s.name === 'P1');

describe('the post-mortem draft', () => {
  it('fills every placeholder of templates/postmortem.md with the record, escaped, people by name', () => {
    const followup: Followup = {
      id: 1,
      incidentNumber: 7,
      number: 1,
      owner: 'U_CAROL',
      text: 'Alert on <5xx>',
      dueAt: at(60 * 24 * 3),
      status: 'open',
      createdBy: 'U_ALICE',
      createdAt: at(5),
      doneAt: null,
      doneBy: null,
      remindedAt: null,
    };
    const md = postmortemMarkdown({
      incident: incident(),
      severity: p1,
      roles: [
        { incidentNumber: 7, role: 'commander', userId: 'U_BOB', assignedBy: 'U_ALICE', assignedAt: at(0) },
      ],
      events: [
        event(1, 0, { kind: 'declared', text: 'INC-7 declared' }),
        event(2, 3, { text: 'paged <@U_BOB> {{ title }}' }),
        event(3, 45, { kind: 'resolved', text: 'Resolved: Rolled back' }),
      ],
      followups: [followup],
      operations: [op({ reason: 'INC-7' }), op({ kind: 'restart', state: 'failed', error: 'timed out' })],
      nameOf: (id) => names[id] ?? id,
      now: at(50),
    });
    expect(md).toContain('# Post-mortem: INC-7: Checkout \\*down\\* \\<here\\>');
    expect(md).toContain('| **Commander** | @Bob B |');
    expect(md).toContain('| **Duration** | 45m |');
    expect(md).toContain('Checkout failed for 30 % of users');
    // Text that looks like a placeholder stays as typed (one pass).
    expect(md).toContain('paged @Bob B {{ title }}');
    expect(md).toContain('Not recorded at resolution.');
    expect(md).toContain(
      '- 2026-03-02T09:12:00Z **rollback** barq-api (production), succeeded, asked by @Bob B: INC-7',
    );
    expect(md).toContain('- rollback of barq-api (production) succeeded, asked by @Bob B');
    expect(md).toContain('- restart of barq-api failed: timed out');
    expect(md).toContain('- 0 status updates posted; the P1 cadence (every 15m) expected 3');
    expect(md).toContain('| 1 | Alert on \\<5xx\\> | @carol | 2026-03-05 | open |');
    expect(md).not.toContain('U_BOB');
  });

  it('says what is missing: no follow-ups, no operations', () => {
    const md = postmortemMarkdown({
      incident: incident(),
      severity: p1,
      roles: [],
      events: [],
      followups: [],
      operations: [],
      now: at(50),
    });
    expect(md).toContain('_No /deploy operations were run for this incident._');
    expect(md).toContain('/incident followup INC-7 add @owner');
    expect(md).toContain('_No events recorded._');
  });

  it('the template has the runbooks’ sections', () => {
    expect(placeholders(postmortemTemplate())).toEqual(
      expect.arrayContaining([
        'summary',
        'impact',
        'timeline',
        'rootCause',
        'wentWell',
        'wentBadly',
        'actionItems',
        'lessons',
      ]),
    );
  });
});

describe('renderTemplate', () => {
  it('replaces placeholders once and refuses a placeholder without a value', () => {
    expect(renderTemplate('a {{ x }} b {{y}}', { x: '{{ y }}', y: '2' })).toBe('a {{ y }} b 2');
    expect(() => renderTemplate('{{ nope }}', {})).toThrow(TemplateError);
    expect(() => renderTemplate('{{ nope }}', {})).toThrow('{{ nope }}');
    expect(renderTemplate('{{ constructor }}', { constructor: 'ok' })).toBe('ok');
    expect(() => renderTemplate('{{ toString }}', {})).toThrow(TemplateError);
  });
});
