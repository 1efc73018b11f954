import type { Firestore } from "firebase-admin/firestore";
import * as logger from "firebase-functions/logger";
import { PubSub } from "@google-cloud/pubsub";
import { DOMAIN_EVENTS_TOPIC, OUTBOX, domainEventSchema } from "./schema";

/** What the outbox relay needs from Pub/Sub; tests may pass a recording fake. */
export interface EventBus {
  publish(topic: string, data: Buffer, attributes: Record<string, string>): Promise<string>;
}

let pubsub: PubSub | undefined;

/** Pub/Sub through @google-cloud/pubsub (honours PUBSUB_EMULATOR_HOST in the emulator). */
export const pubSubEventBus: EventBus = {
  publish(topic, data, attributes) {
    pubsub ??= new PubSub();
    return pubsub.topic(topic).publishMessage({ data, attributes });
  },
};

/**
 * Relays one outbox document to the `domain-events` topic and stamps `publishedAt`. Runs from a Firestore trigger
 * with retries on: a failed publish is retried; a duplicate publish is harmless because every consumer dedupes on
 * the event id. A malformed outbox document is marked and skipped (retrying cannot fix it).
 */
export async function relayOutboxEvent(deps: { db: Firestore; bus: EventBus; now: Date }, docId: string): Promise<void> {
  const ref = deps.db.collection(OUTBOX).doc(docId);
  const snap = await ref.get();
  if (!snap.exists || snap.get("publishedAt")) return;
  // zod drops the relay's own bookkeeping fields (publishedAt, messageId) from the published payload.
  const parsed = domainEventSchema.safeParse(snap.data());
  if (!parsed.success) {
    logger.error("outbox event malformed; not published", { eventDocId: docId, issues: parsed.error.issues.length });
    await ref.update({ publishError: parsed.error.message });
    return;
  }
  const messageId = await deps.bus.publish(DOMAIN_EVENTS_TOPIC, Buffer.from(JSON.stringify(parsed.data)), {
    eventId: parsed.data.id,
    type: parsed.data.type,
  });
  await ref.update({ publishedAt: deps.now, messageId });
  logger.info("domain event published", { eventId: parsed.data.id, type: parsed.data.type, messageId });
}
