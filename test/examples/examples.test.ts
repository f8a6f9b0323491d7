import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.ts';

const load = (name: string) =>
  parseConfigText(readFileSync(new URL(`../../examples/${name}`, import.meta.url), 'utf8'), name);

const MIN = 60_000;

describe('example configs', () => {
  it("examples/fleet.yml has the Fleet runbook's ladder: P0 15 min, P1 1 h, P2 4 h, P3 next day", () => {
    const config = load('fleet.yml');
    expect(config.severities.map((s) => [s.name, s.responseTime])).toEqual([
      ['P0', 15 * MIN],
      ['P1', 60 * MIN],
      ['P2', 240 * MIN],
      ['P3', 1_440 * MIN],
    ]);
  });

  it("examples/architect.yml has the Architect runbooks' P1–P4, P1 answered within 5 minutes", () => {
    const config = load('architect.yml');
    expect(config.severities.map((s) => s.name)).toEqual(['P1', 'P2', 'P3', 'P4']);
    expect(config.severities[0]?.responseTime).toBe(5 * MIN);
    // The 4-level matrix: level 4 declares an outage after 30 minutes for P1.
    const p1 = config.escalation.ladders.P1 ?? [];
    expect(p1.map((l) => l.delay)).toEqual([0, 5 * MIN, 15 * MIN, 30 * MIN]);
    expect(p1[3]?.action?.postIn).toEqual(['#incidents']);
  });

  it('examples/fleet.yml escalates to L2 after 30 minutes for P0 and 2 hours for P1, L3 after 1 h / 4 h', () => {
    const { ladders } = load('fleet.yml').escalation;
    expect(ladders.P0?.map((l) => l.delay)).toEqual([0, 30 * MIN, 60 * MIN]);
    expect(ladders.P1?.map((l) => l.delay)).toEqual([0, 120 * MIN, 240 * MIN]);
  });
});
