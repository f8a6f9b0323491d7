/** What happened to a deploy operation: each transition of its state machine, said once. */
export type DeployEvent =
  | 'requested'
  | 'started'
  | 'verifying'
  | 'succeeded'
  | 'failed'
  | 'cancelled'
  | 'expired'
  | 'interrupted';
