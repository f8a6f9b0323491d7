/** Incident statuses, in the order of the runbooks' response (reopen goes back to investigating). */
export const INCIDENT_STATUSES = ['investigating', 'identified', 'monitoring', 'resolved'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

export const OPEN_STATUSES: readonly IncidentStatus[] = ['investigating', 'identified', 'monitoring'];

export const STATUS_LABEL: Record<IncidentStatus, string> = {
  investigating: 'Investigating',
  identified: 'Identified',
  monitoring: 'Monitoring',
  resolved: 'Resolved',
};

export const STATUS_EMOJI: Record<IncidentStatus, string> = {
  investigating: ':mag:',
  identified: ':bulb:',
  monitoring: ':eyes:',
  resolved: ':white_check_mark:',
};

export function parseStatus(word: string): IncidentStatus | undefined {
  const w = word.trim().toLowerCase();
  return INCIDENT_STATUSES.find((s) => s === w || s.startsWith(w));
}
