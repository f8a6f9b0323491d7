import type { HealthCheckConfig, RunbookConfig, ServiceConfig } from '../../config/schema.ts';
import type { LocalPlatforms } from './index.ts';

/**
 * The config local mode runs with when it simulates the services (the example config, no
 * credentials): the same file, with each simulated service pointed at its simulators.
 *   - `platform.endpoint`: the simulator of its platform.
 *   - `http` checks: the same path and query on the simulated app (headers dropped: their
 *     `${env:…}` secrets belong to the real service).
 *   - `prometheus` checks: the same query, against the simulated app's Prometheus.
 *   - `postgres` and `redis` checks: left out (there is no database or cache to check); `notes` says so.
 *   - approver groups left empty (the example's tech-lead, pm, cto): the simulator's U_BOB, U_CAROL,
 *     U_DAN, so that a production change can be approved (`click deploy_approve --user U_BOB`).
 * The file on disk is not changed; what runs is logged at start-up.
 */
export function simulatedConfig(
  config: RunbookConfig,
  platforms: Pick<LocalPlatforms, 'find'>,
): { config: RunbookConfig; notes: string[] } {
  const notes: string[] = [];
  const services = config.services.map((service): ServiceConfig => {
    const sim = platforms.find(service);
    if (!sim) return service;
    const healthChecks = service.healthChecks.flatMap((check): HealthCheckConfig[] => {
      if (check.type === 'http') return [{ ...check, url: `${sim.appUrl}${pathOf(check.url)}`, headers: {} }];
      if (check.type === 'prometheus') return [{ ...check, url: `${sim.appUrl}/prometheus`, headers: {} }];
      notes.push(`${service.name}: ${check.name ?? check.type} (${check.type}) left out`);
      return [];
    });
    return { ...service, platform: { ...service.platform, endpoint: sim.apiUrl }, healthChecks };
  });
  const approvers = { ...config.approvers };
  for (const [group, user] of Object.entries(LOCAL_APPROVERS)) {
    if (group in approvers && (approvers[group] ?? []).length === 0) {
      approvers[group] = [user];
      notes.push(`approvers.${group}: ${user} (simulated)`);
    }
  }
  return { config: { ...config, services, approvers }, notes };
}

/** Who approves in local mode when the config names no one (the simulator's users). */
const LOCAL_APPROVERS: Record<string, string> = { 'tech-lead': 'U_BOB', pm: 'U_CAROL', cto: 'U_DAN' };

/** Path and query of a check URL (`/health` where a reference hides them). */
function pathOf(url: string): string {
  try {
    const parsed = new URL(url.replace(/\$\{env:[^}]*\}/g, 'x'));
    return `${parsed.pathname}${parsed.search}`;
  } catch {
    return '/health';
  }
}
