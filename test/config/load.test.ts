import { describe, expect, it } from 'vitest';
import { ConfigError, EXAMPLE_CONFIG_PATH, loadConfigFile, parseConfigText } from '../../src/config/load.ts';

describe('config loading', () => {
  it('parses the shipped example with the runbooks’ defaults', () => {
    const { config, usedExample, path } = loadConfigFile(undefined, '/nonexistent-dir');
    expect(usedExample).toBe(true);
    expect(path).toBe(EXAMPLE_CONFIG_PATH);
    expect(config.severities.map((s) => s.name)).toEqual(['P0', 'P1', 'P2', 'P3']);
    expect(config.severities[0]?.responseTime).toBe(15 * 60_000);
    expect(config.severities[2]?.responseTime).toBe(2 * 3_600_000);
    expect(config.services.map((s) => s.platform.kind)).toEqual(['cloudrun', 'appservice', 'kubernetes']);
    expect(config.approvals.production?.required).toBe(2);
  });

  it('fills every default from an empty file', () => {
    const config = parseConfigText('');
    expect(config.channels.incidents).toBe('#incidents');
    expect(config.severities.find((s) => s.name === 'P1')?.responseTime).toBe(30 * 60_000);
    expect(config.severities.find((s) => s.name === 'P0')?.postMortemRequired).toBe(true);
    expect(config.deploy.utcOffset).toBe('+03:00');
    expect(config.deploy.windows.production).toHaveLength(2);
    expect(config.incidents.roles).toEqual(['commander', 'communications lead', 'scribe']);
  });

  it('names the path and the YAML line of a bad field', () => {
    const text = ['services:', '  - name: api', '    platform:', '      kind: heroku', '      app: x'].join(
      '\n',
    );
    expect(() => parseConfigText(text, 'runbook.yml')).toThrow(ConfigError);
    try {
      parseConfigText(text, 'runbook.yml');
    } catch (error) {
      expect((error as Error).message).toMatch(/services\.0\.platform\.kind \(line 4\)/);
    }
  });

  it('explains a malformed duration', () => {
    expect(() =>
      parseConfigText(
        'severities:\n  - {name: P1, label: High, definition: x, responseTime: soon, updateCadence: 15m, escalationDelay: 30m}',
      ),
    ).toThrow(/severities\.0\.responseTime \(line 2\): "soon" is not a duration/);
  });

  it('refuses secrets written as literals', () => {
    const literalPassword = [
      'services:',
      '  - name: api',
      '    platform: {kind: kubernetes, namespace: n, deployment: d}',
      '    healthChecks:',
      '      - type: postgres',
      '        url: postgres://app:hunter2@db:5432/app',
    ].join('\n');
    expect(() => parseConfigText(literalPassword)).toThrow(/password must not be written in the config/);
    const literalHeader = [
      'services:',
      '  - name: api',
      '    platform: {kind: kubernetes, namespace: n, deployment: d}',
      '    healthChecks:',
      '      - type: http',
      '        url: https://x/health',
      '        headers: {Authorization: Bearer abc123}',
    ].join('\n');
    expect(() => parseConfigText(literalHeader)).toThrow(/Authorization carries a credential/);
  });

  it('reports YAML syntax errors with their line', () => {
    expect(() => parseConfigText('channels:\n  incidents: "#inc\n  x: [', 'bad.yml')).toThrow(
      /bad\.yml:\d+:\d+/,
    );
  });

  it('refuses duplicate services and severities', () => {
    const text = [
      'services:',
      '  - {name: api, platform: {kind: kubernetes, namespace: n, deployment: d}}',
      '  - {name: api, platform: {kind: kubernetes, namespace: n, deployment: e}}',
    ].join('\n');
    expect(() => parseConfigText(text)).toThrow(/duplicate service api\/production/);
  });
});
