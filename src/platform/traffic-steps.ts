/**
 * Gradual roll-out steps over a platform's traffic split between revisions (Cloud Run): each step
 * sets the whole split, so repeating one changes nothing.
 */
import { PlatformError } from './errors.ts';
import type { ChangeResult, Platform, TrafficSteps } from './platform.ts';

export function splitTrafficSteps(platform: Platform): TrafficSteps {
  const set = (targets: { revision: string; percent: number }[]): Promise<ChangeResult> => {
    if (!platform.setTraffic) throw new PlatformError('unsupported', 'this platform has no traffic split');
    return platform.setTraffic(targets.filter((t) => t.percent > 0));
  };
  return {
    async prepare(revision) {
      const [status, history] = await Promise.all([platform.status(), platform.history(50)]);
      const serving = [...(status.traffic ?? [])].sort((a, b) => b.percent - a.percent)[0]?.revision;
      const from = serving && serving !== 'latest' ? serving : status.revision;
      const target = history.find((r) => r.id === revision);
      if (!target) {
        const ids =
          history
            .map((r) => r.id)
            .slice(0, 10)
            .join(', ') || 'none';
        throw new PlatformError('invalid', `there is no revision "${revision}" (the newest are ${ids})`);
      }
      if (!from) throw new PlatformError('invalid', 'no revision serves traffic now');
      if (from === revision)
        throw new PlatformError('invalid', `revision ${revision} already serves all traffic`);
      return { fromRevision: from, toRevision: revision, toImage: target.image };
    },
    shift: ({ fromRevision, toRevision, percent }) =>
      set([
        { revision: toRevision, percent },
        { revision: fromRevision, percent: 100 - percent },
      ]),
    revert: ({ fromRevision }) => set([{ revision: fromRevision, percent: 100 }]),
  };
}
