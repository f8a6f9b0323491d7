import { describe, expect, it } from 'vitest';
import { AUDIT_CSV_COLUMNS, auditCsv } from '../../src/deploy/audit.ts';
import type { AuditRecord } from '../../src/store/repositories/audit.ts';

const record = (over: Partial<AuditRecord>): AuditRecord => ({
  id: 1,
  at: new Date('2026-03-02T09:00:00.000Z'),
  actor: 'U1',
  action: 'deploy.restart',
  service: 'api',
  environment: 'production',
  outcome: 'succeeded',
  details: {},
  incidentNumber: null,
  operationId: null,
  ...over,
});

describe('auditCsv', () => {
  it('writes RFC 4180: a header, CRLF line ends, quoting only where needed, quotes doubled', () => {
    const csv = auditCsv([
      record({}),
      record({
        id: 2,
        actor: 'bot',
        action: 'say "hi", then\nleave',
        service: null,
        environment: null,
        incidentNumber: 7,
        operationId: '9b2c7c4e-2f7e-4f7e-9d2a-000000000001',
        details: { reason: 'a,b' },
      }),
    ]);
    expect(csv).toBe(
      [
        AUDIT_CSV_COLUMNS.join(','),
        '1,2026-03-02T09:00:00.000Z,U1,deploy.restart,api,production,succeeded,,,',
        '2,2026-03-02T09:00:00.000Z,bot,"say ""hi"", then\nleave",,,succeeded,INC-7,9b2c7c4e-2f7e-4f7e-9d2a-000000000001,"{""reason"":""a,b""}"',
        '',
      ].join('\r\n'),
    );
  });

  it('quotes a field with a bare line feed or carriage return', () => {
    const [, line] = auditCsv([record({ action: 'two\nlines', service: 'cr\rhere' })]).split('\r\n');
    expect(line).toBe('1,2026-03-02T09:00:00.000Z,U1,"two\nlines","cr\rhere",production,succeeded,,,');
  });

  it('defuses cells a spreadsheet would run as formulas', () => {
    const csv = auditCsv([
      record({ actor: '=1+1', action: '+SUM(A1)', service: '-cmd', environment: '@x' }),
      record({ id: 2, actor: '\tTAB', action: '\rCR', service: '\uFF1Dwide', environment: 'ok-=' }),
    ]);
    const [, first, second] = csv.split('\r\n');
    expect(first).toBe("1,2026-03-02T09:00:00.000Z,'=1+1,'+SUM(A1),'-cmd,'@x,succeeded,,,");
    expect(second).toBe(`2,2026-03-02T09:00:00.000Z,'\tTAB,"'\rCR",'\uFF1Dwide,ok-=,succeeded,,,`);
  });
});
