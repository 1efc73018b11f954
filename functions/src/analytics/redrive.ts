import type { Firestore } from "firebase-admin/firestore";
import { DEAD_LETTERS } from "../events/consume";
import type { Clock } from "../lib/clock";
import { DomainError } from "../lib/errors";
import { ADS_CONSUMER } from "./conversions";

/** The queue item a Conversions API dead letter names (`users/{uid}/adsEvents/{id}`). */
const ITEM_PATH = /^users\/[^/]+\/adsEvents\/[^/]+$/;

/**
 * Re-drives an `ads-conversions` dead letter (docs/operations.md "dead-letters"): once the cause is fixed (a new access
 * token, Meta back up), its queue item goes back to `pending` with a fresh count of attempts, due at once, and the
 * letter is deleted, in one transaction. The next flush (any domain event's delivery) sends it, after the usual
 * send-time checks (consent still on, donation still succeeded, younger than 7 days). Meta deduplicates by event id,
 * so a re-drive can never count a conversion twice; a second re-drive of the same letter finds none.
 */
export async function redriveAdsDeadLetter(deps: { db: Firestore; clock: Clock }, deadLetterId: string): Promise<{ result: "redriven"; outcome: "queued" }> {
  const letterRef = deps.db.collection(DEAD_LETTERS).doc(deadLetterId);
  return deps.db.runTransaction(async (tx) => {
    const letter = await tx.get(letterRef);
    if (!letter.exists) throw new DomainError("dead_letter_not_found", { field: "deadLetterId" });
    const itemPath: unknown = letter.get("itemPath");
    if (letter.get("consumer") !== ADS_CONSUMER || typeof itemPath !== "string" || !ITEM_PATH.test(itemPath)) throw new DomainError("dead_letter_not_redrivable");
    const itemRef = deps.db.doc(itemPath);
    const item = await tx.get(itemRef);
    const state: unknown = item.get("state");
    if (state !== "dead") throw new DomainError("dead_letter_item_not_dead", { params: { state: typeof state === "string" ? state : "gone" } });
    tx.update(itemRef, { state: "pending", attempts: 0, nextAttemptAt: deps.clock.now(), lastError: null });
    tx.delete(letterRef);
    return { result: "redriven", outcome: "queued" };
  });
}
