/** Pieces shared by the incident modals: options within Slack's limits, the modal as a View. */
import type { ModalView } from '@slack/types';
import { Bits } from 'slack-block-builder';
import { formatDuration } from '../../../config/duration.ts';
import type { SeverityConfig } from '../../../config/schema.ts';
import { truncate } from '../../kit/escape.ts';
import { LIMITS } from '../../kit/limits.ts';

export function option(text: string, value: string, description?: string) {
  return Bits.Option({
    text: truncate(text, LIMITS.optionText),
    value,
    ...(description ? { description: truncate(description, LIMITS.optionDescription) } : {}),
  });
}

/** A severity option: "P1 · High" with its definition and response time. */
export function severityOption(level: SeverityConfig) {
  return option(
    `${level.name} · ${level.label}`,
    level.name,
    `Respond within ${formatDuration(level.responseTime)}: ${level.definition}`,
  );
}

/** slack-block-builder's modal object as Slack's View type. */
export function asModal(built: unknown): ModalView {
  return built as ModalView;
}

export const modalTitle = (text: string): string => truncate(text, LIMITS.modalTitle);
