import { FieldValue } from "firebase-admin/firestore";
import type { DocumentReference, Firestore } from "firebase-admin/firestore";
import { logger } from "../lib/log";
import { z } from "zod";
import type { Clock } from "../lib/clock";
import { admit } from "../lib/admission";
import { parseInput } from "../lib/errors";
import { longIdSchema } from "../lib/ids";
import { inboxCounterDoc, notificationsCollection } from "./model";

export interface InboxDeps {
  db: Firestore;
  clock: Clock;
}

/** Items one call may name, and items marked per transaction when marking everything. */
export const MAX_IDS_PER_CALL = 50;
const ITEMS_PER_TRANSACTION = 200;
const MAX_PAGES = 50;

/** A notification's id is its domain event's id, which may be longer than our entity ids. */
const notificationId = longIdSchema;

/** Exactly one of `ids` (the items to mark read) or `all: true` (every unread item). */
export const markNotificationsReadInput = z
  .object({
    ids: z.array(notificationId).min(1).max(MAX_IDS_PER_CALL).optional(),
    all: z.literal(true).optional(),
  })
  .strict()
  .refine((input) => (input.ids === undefined) !== (input.all === undefined), { message: "ids_or_all_required", path: ["ids"] });

/**
 * Marks inbox items read and lowers the unread count by exactly the number of items that were unread, in one
 * transaction per page: a repeated call, or an item that is already read or does not exist, changes nothing.
 */
async function markPage(deps: InboxDeps, uid: string, refs: DocumentReference[]): Promise<number> {
  const counter = deps.db.doc(inboxCounterDoc(uid));
  return deps.db.runTransaction(async (tx) => {
    const snaps = await tx.getAll(...refs);
    const unread = snaps.filter((snap) => snap.exists && snap.get("read") === false);
    const readAt = deps.clock.now();
    for (const snap of unread) tx.update(snap.ref, { read: true, readAt });
    if (unread.length > 0) tx.set(counter, { unread: FieldValue.increment(-unread.length) }, { merge: true });
    return unread.length;
  });
}

/**
 * The markNotificationsRead callable: `{ids}` or `{all: true}` (else invalid-argument naming the field); returns how
 * many items changed from unread to read.
 */
export async function markNotificationsRead(deps: InboxDeps, uid: string, data: unknown): Promise<{ marked: number }> {
  const input = parseInput(markNotificationsReadInput, data);
  await admit(deps, uid);
  const inbox = deps.db.collection(notificationsCollection(uid));
  let marked = 0;
  if (input.ids) {
    marked = await markPage(deps, uid, [...new Set(input.ids)].map((id) => inbox.doc(id)));
  } else {
    // Page by page until no unread item is left (items created meanwhile are marked too if a later page sees them).
    // Bounded, so a call always ends; what is left stays unread and counted, and a second call goes on.
    for (let page = 0; page < MAX_PAGES; page++) {
      const unread = await inbox.where("read", "==", false).limit(ITEMS_PER_TRANSACTION).select().get();
      if (unread.empty) break;
      marked += await markPage(deps, uid, unread.docs.map((doc) => doc.ref));
    }
  }
  logger.info("notifications marked read", { uid, marked, all: input.all === true });
  return { marked };
}
