import type { Firestore } from "firebase-admin/firestore";
import { describeZodError } from "../lib/errors";
import { logger } from "../lib/log";
import { DOMAIN_EVENTS_TOPIC, domainEventSchema } from "./schema";
import type { DomainEvent } from "./schema";

/** Messages a consumer could not read, for ops (docs/operations.md): one document per consumer and message. */
export const DEAD_LETTERS = "ops/deadLetters/items";

/** The consumer that wrote dead letter `id` (`notifications`, `feed`, `ads-conversions`), or null when there is none. */
export async function deadLetterConsumer(db: Firestore, id: string): Promise<string | null> {
  const letter = await db.collection(DEAD_LETTERS).doc(id).get();
  if (!letter.exists) return null;
  const consumer: unknown = letter.get("consumer");
  return typeof consumer === "string" ? consumer : "";
}

/** A Pub/Sub message of the domain-events topic as a consumer receives it (data base64-encoded). */
export interface IncomingMessage {
  messageId: string;
  data: string;
  attributes?: Record<string, string>;
}

export type Decoded = { ok: true; event: DomainEvent; raw: string } | { ok: false; reason: string; raw: string };

/** Decodes a message's data into a domain event, or says why it is not one. */
export function decodeDomainEvent(data: string): Decoded {
  const raw = Buffer.from(data, "base64").toString("utf8");
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { ok: false, reason: "message data is not JSON", raw };
  }
  const parsed = domainEventSchema.safeParse(json);
  return parsed.success ? { ok: true, event: parsed.data, raw } : { ok: false, reason: `not a domain event: ${describeZodError(parsed.error)}`, raw };
}

/**
 * The one policy for a message that is not a domain event, for every consumer of the topic: it is dead-lettered
 * (kept for ops with the reason) and acknowledged, since retrying cannot fix it. Returns the event, or null when the
 * message was dead-lettered. Writing the dead letter twice (a redelivery) writes the same document.
 */
export async function receiveDomainEvent(deps: { db: Firestore; now: Date }, consumer: string, message: IncomingMessage): Promise<Decoded> {
  const decoded = decodeDomainEvent(message.data);
  if (decoded.ok) return decoded;
  await deps.db
    .collection(DEAD_LETTERS)
    .doc(`${consumer}-${message.messageId}`)
    .set({
      consumer,
      topic: DOMAIN_EVENTS_TOPIC,
      messageId: message.messageId,
      reason: decoded.reason,
      data: decoded.raw.slice(0, 10_000),
      attributes: message.attributes ?? {},
      receivedAt: deps.now,
    });
  logger.warn("domain event dead-lettered", { consumer, messageId: message.messageId, reason: decoded.reason.slice(0, 500) });
  return decoded;
}
