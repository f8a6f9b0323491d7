/** The health of an incident's affected services: which environments are checked, and its summary. */
import type { RunbookConfig, ServiceConfig } from '../config/schema.ts';
import type { HealthService } from '../health/service.ts';
import { type HealthReport, type HealthStatus, worstStatus } from '../health/types.ts';

export interface AffectedServicesHealth {
  reports: HealthReport[];
  /** Affected services runbook.yml does not know. */
  notConfigured: string[];
  /** Configured, but without health checks ("name (environment)"). */
  noChecks: string[];
}

/**
 * Checks the named services. A name configured in several environments means its production
 * environment when there is one, else all of them.
 */
export async function checkAffectedServices(
  health: Pick<HealthService, 'checkService'>,
  config: RunbookConfig,
  names: readonly string[],
): Promise<AffectedServicesHealth> {
  const notConfigured: string[] = [];
  const noChecks: string[] = [];
  const targets: ServiceConfig[] = [];
  for (const name of new Set(names)) {
    const configured = config.services.filter((s) => s.name === name);
    if (configured.length === 0) {
      notConfigured.push(name);
      continue;
    }
    const production = configured.filter((s) => s.environment === 'production');
    for (const service of production.length > 0 ? production : configured) {
      if (service.healthChecks.length === 0) noChecks.push(`${service.name} (${service.environment})`);
      else targets.push(service);
    }
  }
  const reports = await Promise.all(targets.map((s) => health.checkService(s.name, s.environment)));
  return { reports, notConfigured, noChecks };
}

/** The worst status of the checked services (what the incident's health check says). */
export function overallStatus(checked: AffectedServicesHealth): HealthStatus {
  return worstStatus(checked.reports.map((r) => r.status));
}
