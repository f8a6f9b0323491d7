import type { DeploymentView } from './resources.ts';

/**
 * `kubectl rollout status` for a Deployment: kubectl's DeploymentStatusViewer
 * (k8s.io/kubectl/pkg/polymorphichelpers/rollout_status.go), same checks, same words.
 */

export interface RolloutState {
  /** The rollout finished: every replica updated and available. */
  done: boolean;
  /** It will not finish by waiting (progress deadline exceeded, or paused). */
  stuck: boolean;
  message: string;
  /** The platform's own reason when not done (ProgressDeadlineExceeded, DeploymentPaused…). */
  reason?: string;
}

export function rolloutState(d: DeploymentView): RolloutState {
  const s = d.status;
  const name = JSON.stringify(d.name);
  if (d.generation > s.observedGeneration) {
    return { done: false, stuck: false, message: 'Waiting for deployment spec update to be observed...' };
  }
  const progressing = s.conditions.find((c) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') {
    return {
      done: false,
      stuck: true,
      message: `deployment ${name} exceeded its progress deadline${progressing.message ? `: ${progressing.message}` : ''}`,
      reason: 'ProgressDeadlineExceeded',
    };
  }
  let waiting: string | undefined;
  if (s.updatedReplicas < d.replicas) {
    waiting = `Waiting for deployment ${name} rollout to finish: ${s.updatedReplicas} out of ${d.replicas} new replicas have been updated...`;
  } else if (s.replicas > s.updatedReplicas) {
    waiting = `Waiting for deployment ${name} rollout to finish: ${s.replicas - s.updatedReplicas} old replicas are pending termination...`;
  } else if (s.availableReplicas < s.updatedReplicas) {
    waiting = `Waiting for deployment ${name} rollout to finish: ${s.availableReplicas} of ${s.updatedReplicas} updated replicas are available...`;
  }
  if (waiting === undefined)
    return { done: true, stuck: false, message: `deployment ${name} successfully rolled out` };
  // kubectl would wait for ever on a paused rollout; the controller says why nothing moves.
  if (d.paused) {
    return {
      done: false,
      stuck: true,
      message: `${waiting} (the deployment is paused: resume it with kubectl rollout resume deployment/${d.name})`,
      reason: 'DeploymentPaused',
    };
  }
  return { done: false, stuck: false, message: waiting };
}
