/** What happened to a deploy operation: each transition of its state machine, said once. */
export type DeployEvent =
  | 'requested'
  | 'started'
  | 'verifying'
  | 'succeeded'
  | 'failed'
  | 'cancelled'
  | 'expired'
  | 'interrupted'
  // approvals, windows and the emergency path (src/deploy/approval-rules.ts, windows.ts)
  /** Confirmed by the requester; now waits for its approvers. */
  | 'awaiting_approval'
  /** One approval landed (the last one moves it to 'approved'). */
  | 'approved'
  | 'rejected'
  /** Asked as an emergency (the emergency approver group must approve too). */
  | 'emergency'
  /** It would start, but a deploy window is closed or the environment frozen: it did not. */
  | 'blocked';
