import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.ts';

const DEFAULT_PRODUCTION_WINDOWS = [
  { days: ['mon', 'tue', 'wed', 'thu'], from: '10:00', to: '14:00' },
  { days: ['fri'], from: '10:00', to: '12:00' },
];

describe('defaults apply field by field', () => {
  it('a deploy section with only rollbackErrorRate keeps the default windows, offset and rollback time', () => {
    const config = parseConfigText('deploy: { rollbackErrorRate: 0.1 }\n');
    expect(config.deploy).toEqual({
      holidays: [],
      incidentExemption: ['P0', 'P1'],
      utcOffset: '+03:00',
      windows: { production: DEFAULT_PRODUCTION_WINDOWS },
      emergencyApproverGroup: 'cto',
      rollbackErrorRate: 0.1,
      rollbackAfter: 300_000,
      allowed: {},
      confirmTimeout: 900_000,
      settleTimeout: { kubernetes: 600_000, cloudrun: 300_000, appservice: 600_000 },
      verifyTimeout: 120_000,
    });
    expect(parseConfigText('deploy: { settleTimeout: { cloudrun: 1m } }\n').deploy.settleTimeout).toEqual({
      kubernetes: 600_000,
      cloudrun: 60_000,
      appservice: 600_000,
    });
    expect(config.approvals.production).toEqual({
      required: 2,
      fromGroups: ['tech-lead', 'pm'],
      allowSelfApproval: false,
      expireAfter: 3_600_000,
    });
  });

  it('windows for another environment keep the default production windows; a given list replaces its default', () => {
    const staging = parseConfigText(
      'deploy:\n  windows:\n    staging:\n      - {days: [sat], from: "08:00", to: "20:00"}\n',
    );
    expect(staging.deploy.windows).toEqual({
      production: DEFAULT_PRODUCTION_WINDOWS,
      staging: [{ days: ['sat'], from: '08:00', to: '20:00' }],
    });
    const production = parseConfigText(
      'deploy:\n  windows:\n    production:\n      - {days: [tue], from: "09:00", to: "11:00"}\n',
    );
    expect(production.deploy.windows).toEqual({
      production: [{ days: ['tue'], from: '09:00', to: '11:00' }],
    });
    expect(parseConfigText('deploy: {windows: {production: []}}').deploy.windows).toEqual({ production: [] });
  });

  it('a partial approvals.production keeps the defaults of its other fields and of the other environments', () => {
    const config = parseConfigText('approvals:\n  production: { allowSelfApproval: true }\n');
    expect(config.approvals).toEqual({
      production: {
        required: 2,
        fromGroups: ['tech-lead', 'pm'],
        allowSelfApproval: true,
        expireAfter: 3_600_000,
      },
      staging: { required: 1, fromGroups: [], allowSelfApproval: false, expireAfter: 3_600_000 },
      development: { required: 0, fromGroups: [], allowSelfApproval: false, expireAfter: 3_600_000 },
    });
    const three = parseConfigText('approvals:\n  production: { required: 3 }\n  qa: { required: 1 }\n');
    expect(three.approvals.production).toEqual({
      required: 3,
      fromGroups: ['tech-lead', 'pm'],
      allowSelfApproval: false,
      expireAfter: 3_600_000,
    });
    expect(three.approvals.qa).toEqual({
      required: 1,
      fromGroups: [],
      allowSelfApproval: false,
      expireAfter: 3_600_000,
    });
    expect(three.approvals.staging?.required).toBe(1);
  });

  it('an environment without a default rule still needs its required count', () => {
    expect(() => parseConfigText('approvals:\n  qa: { fromGroups: [pm] }\n')).toThrow(
      /approvals\.qa\.required \(line 2\): required field missing/,
    );
  });

  it('partial channels and incidents sections keep their other defaults', () => {
    const config = parseConfigText('channels: {deployments: "#ship"}\nincidents: {createChannel: false}\n');
    expect(config.channels).toEqual({ incidents: '#incidents', deployments: '#ship' });
    expect(config.incidents).toMatchObject({
      declareIn: 'any',
      channelNameTemplate: 'inc-{id}-{slug}',
      createChannel: false,
      archiveAfter: 7 * 86_400_000,
    });
  });
});
