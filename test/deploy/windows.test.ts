import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.ts';
import { parseZonedTime, windowState } from '../../src/deploy/windows.ts';

/** The window arithmetic on its own: zones with daylight saving, a bad zone refused at start-up. */
describe('deploy windows', () => {
  const berlin = parseConfigText(
    'deploy: { timeZone: Europe/Berlin, windows: { production: [{ days: [mon, tue, wed, thu, fri], from: "10:00", to: "14:00" }] } }\n',
  ).deploy;

  it('follows daylight saving of an IANA zone (10:00 in Berlin is 09:00 UTC in winter, 08:00 in summer)', () => {
    expect(windowState(berlin, 'production', new Date('2026-01-12T09:00:00Z')).open).toBe(true);
    expect(windowState(berlin, 'production', new Date('2026-01-12T08:59:00Z')).open).toBe(false);
    expect(windowState(berlin, 'production', new Date('2026-07-13T08:00:00Z')).open).toBe(true);
    expect(windowState(berlin, 'production', new Date('2026-07-13T07:59:00Z')).open).toBe(false);
    // Friday after the window: the next one is Monday 10:00 Berlin time (March 30 is summer time).
    const closed = windowState(berlin, 'production', new Date('2026-03-27T15:00:00Z'));
    expect(closed.open === false && closed.nextOpen?.toISOString()).toBe('2026-03-30T08:00:00.000Z');
    // An environment without windows is open at any time.
    expect(windowState(berlin, 'staging', new Date('2026-03-28T03:00:00Z')).open).toBe(true);
  });

  it('reads freeze times in the deploy zone', () => {
    const riyadh = parseConfigText('deploy: { timeZone: Asia/Riyadh }\n').deploy;
    const now = new Date('2026-01-08T16:00:00Z'); // 19:00 in Riyadh
    expect(parseZonedTime(riyadh, '2026-01-09T18:00', now)?.toISOString()).toBe('2026-01-09T15:00:00.000Z');
    expect(parseZonedTime(riyadh, '18:00', now)?.toISOString()).toBe('2026-01-09T15:00:00.000Z');
    expect(parseZonedTime(riyadh, '20:00', now)?.toISOString()).toBe('2026-01-08T17:00:00.000Z');
    expect(parseZonedTime(riyadh, 'tomorrow', now)).toBeNull();
    // A date that does not exist is refused, not rolled over into March.
    expect(parseZonedTime(riyadh, '2026-02-31', now)).toBeNull();
    expect(parseZonedTime(riyadh, '2026-02-28T24:00', now)).toBeNull();
  });

  it('refuses a time zone the runtime does not know, and a malformed holiday', () => {
    expect(() => parseConfigText('deploy: { timeZone: Asia/Riyad }\n')).toThrow(/deploy\.timeZone.*IANA/);
    expect(() => parseConfigText('deploy: { holidays: ["24.12.2026"] }\n')).toThrow(/deploy\.holidays\.0/);
  });

  it('refuses a window that ends before it starts (it would never open)', () => {
    expect(() =>
      parseConfigText('deploy: { windows: { production: [{ days: [mon], from: "22:00", to: "02:00" }] } }\n'),
    ).toThrow(/deploy\.windows\.production\.0\.to.*two windows/);
  });
});
