/** The figures each fault test reports, and how its notifications fared at the receiver. */
import { appendFileSync } from "node:fs";
import type { WebhookReceiver } from "@ward/shared/testing";

/**
 * Appends one scenario's figures as a JSON line to the file named by `WARD_REPORT`, when set:
 * what the README's reliability table is made from.
 *
 * @example
 * recordFigures("redis_outage", { readiness_flip_ms: 240, requests_failed: 0 });
 */
export function recordFigures(scenario: string, figures: Record<string, unknown>): void {
  const path = process.env.WARD_REPORT;
  if (path) appendFileSync(path, `${JSON.stringify({ scenario, ...figures })}\n`);
}

/**
 * How the tasks' notifications fared at the receiver: tasks with none (lost), tasks announced
 * under more than one key (notified twice), and calls repeating a key already answered 2xx
 * (redeliveries, which a receiver dropping repeated keys ignores).
 *
 * @example
 * const { lost, notifiedTwice } = notificationFigures(receiver, load.created());
 */
export function notificationFigures(receiver: WebhookReceiver, taskIds: readonly string[]) {
  const lost = taskIds.filter((id) => receiver.keysForTask(id).size === 0);
  const notifiedTwice = taskIds.filter((id) => receiver.keysForTask(id).size > 1);
  const redeliveries = [...receiver.handled().values()].reduce((sum, calls) => sum + calls.length - 1, 0);
  return { lost, notifiedTwice, redeliveries };
}
