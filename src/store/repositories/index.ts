/** Every repository over one Queryable: the Db, or a tx inside db.transaction(). */
import { type Clock, systemClock } from '../../clock.ts';
import type { IncidentRepositories, IncidentStore } from '../../incidents/ports.ts';
import type { Db, Queryable } from '../db.ts';
import { ApprovalRepository } from './approvals.ts';
import { AuditRepository } from './audit.ts';
import { type FlowRun, FlowRunRepository } from './flow-runs.ts';
import { FreezeRepository } from './freezes.ts';
import { IncidentRoleRepository } from './incident-roles.ts';
import { IncidentRepository } from './incidents.ts';
import { OperationRepository } from './operations.ts';
import { PagerDutyEventRepository } from './pagerduty.ts';
import { FollowupRepository, PostmortemRepository } from './postmortems.ts';
import { ProcessedRequestRepository } from './processed-requests.ts';
import { RolloutRepository } from './rollouts.ts';
import { StatsRepository } from './stats.ts';
import { TimelineRepository } from './timeline.ts';
import { TimerRepository } from './timers.ts';

export interface Repositories {
  incidents: IncidentRepository;
  roles: IncidentRoleRepository;
  timeline: TimelineRepository;
  audit: AuditRepository;
  operations: OperationRepository;
  approvals: ApprovalRepository;
  /** Deploy freezes per environment. */
  freezes: FreezeRepository;
  flowRuns: FlowRunRepository;
  /** Exactly-once keys of Slack deliveries and actions. */
  processed: ProcessedRequestRepository;
  /** Durable timers (src/timers/). */
  timers: TimerRepository;
  /** The PagerDuty outbox (src/pagerduty/). */
  pagerduty: PagerDutyEventRepository;
  /** Reads for incident and deploy statistics (src/stats/). */
  stats: StatsRepository;
  /** Gradual roll-outs (src/deploy/rollout.ts). */
  rollouts: RolloutRepository;
  /** Post-mortems and follow-ups (src/incidents/postmortem.ts). */
  postmortems: PostmortemRepository;
  followups: FollowupRepository;
}

export function repositories(q: Queryable, clock: Clock = systemClock): Repositories {
  return {
    incidents: new IncidentRepository(q, clock),
    roles: new IncidentRoleRepository(q, clock),
    timeline: new TimelineRepository(q, clock),
    audit: new AuditRepository(q, clock),
    operations: new OperationRepository(q, clock),
    approvals: new ApprovalRepository(q, clock),
    freezes: new FreezeRepository(q, clock),
    flowRuns: new FlowRunRepository(q, clock),
    processed: new ProcessedRequestRepository(q, clock),
    timers: new TimerRepository(q, clock),
    pagerduty: new PagerDutyEventRepository(q, clock),
    stats: new StatsRepository(q),
    rollouts: new RolloutRepository(q, clock),
    postmortems: new PostmortemRepository(q, clock),
    followups: new FollowupRepository(q, clock),
  };
}

function incidentRepositories(q: Queryable, clock: Clock): IncidentRepositories<FlowRun> {
  return {
    incidents: new IncidentRepository(q, clock),
    roles: new IncidentRoleRepository(q, clock),
    timeline: new TimelineRepository(q, clock),
    setupRuns: new FlowRunRepository(q, clock),
    timers: new TimerRepository(q, clock),
    pagerduty: new PagerDutyEventRepository(q, clock),
    postmortems: new PostmortemRepository(q, clock),
    followups: new FollowupRepository(q, clock),
  };
}

/** The incident domain's records (src/incidents/ports.ts) over the Db: reads, and transactions. */
export function incidentStore(db: Db, clock: Clock = systemClock): IncidentStore<FlowRun> {
  return {
    repos: incidentRepositories(db, clock),
    transaction: (fn) => db.transaction((tx) => fn(incidentRepositories(tx, clock))),
  };
}
