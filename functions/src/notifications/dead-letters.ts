import { DEAD_LETTERS } from "../events/consume";
import { DomainError } from "../lib/errors";
import { handleDomainEventMessage } from "./worker";
import type { NotificationDeps } from "./worker";

/** What a dead letter keeps of its message (src/events/consume.ts): longer messages cannot be re-driven whole. */
const KEPT_CHARS = 10_000;

/**
 * Re-drives a dead-lettered domain-events message (`ops/deadLetters/items/{id}`) through the notification worker, once
 * the cause is fixed (e.g. a new event type deployed). Its inbox items are deduplicated per event id, so re-driving can
 * never notify twice. Delivered → the dead letter is deleted; still not a domain event → `failed-precondition`, and
 * the dead letter stays (with the new reason).
 */
export async function redriveDeadLetter(deps: NotificationDeps, deadLetterId: string): Promise<{ result: "redriven"; outcome: string }> {
  const ref = deps.db.collection(DEAD_LETTERS).doc(deadLetterId);
  const letter = await ref.get();
  if (!letter.exists) throw new DomainError("dead_letter_not_found", { field: "deadLetterId" });
  const data: unknown = letter.get("data");
  const messageId: unknown = letter.get("messageId");
  if (letter.get("consumer") !== "notifications" || typeof data !== "string" || typeof messageId !== "string") {
    throw new DomainError("dead_letter_not_redrivable");
  }
  if (data.length >= KEPT_CHARS) throw new DomainError("dead_letter_not_redrivable", { params: { maxChars: KEPT_CHARS } });
  const attributes = (letter.get("attributes") ?? {}) as Record<string, string>;
  const outcome = await handleDomainEventMessage(deps, { messageId, data: Buffer.from(data, "utf8").toString("base64"), attributes });
  if (outcome.outcome === "dead-lettered") throw new DomainError("dead_letter_still_unreadable", { params: { problem: outcome.reason } });
  await ref.delete();
  return { result: "redriven", outcome: outcome.outcome };
}
