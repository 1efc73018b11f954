import type { Firestore, Transaction, WriteBatch } from "firebase-admin/firestore";
import { OUTBOX, domainEventSchema } from "./schema";
import type { DomainEvent } from "./schema";

/** Distributive Omit, so each event variant keeps its own fields. */
type WithoutTime<E> = E extends unknown ? Omit<E, "occurredAt"> : never;

/**
 * Adds a domain event to the outbox inside the caller's batch or transaction, so the event exists if and only if
 * the state change committed. `create` fails the whole write if the event id was already used: callers use
 * deterministic ids, so a replay is refused atomically instead of producing a second event.
 */
export function addToOutbox(
  db: Firestore,
  writer: WriteBatch | Transaction,
  event: WithoutTime<DomainEvent>,
  occurredAt: Date,
): void {
  const full = domainEventSchema.parse({ ...event, occurredAt: occurredAt.toISOString() });
  writer.create(db.collection(OUTBOX).doc(encodeEventId(full.id)), { ...full, publishedAt: null });
}

/** Event ids may contain ':' and '/', which are not valid in a document id path segment ('/'). */
export function encodeEventId(id: string): string {
  return id.replaceAll("/", "_");
}
