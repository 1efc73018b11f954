import type { DocumentData, DocumentReference, Firestore, Transaction } from "firebase-admin/firestore";
import { logger } from "../lib/log";
import { DomainError, parseInput } from "../lib/errors";
import { z } from "zod";
import { REPORT_HIDE_THRESHOLD } from "../config";
import { audited, reasonSchema } from "../store/audit-log";
import { withdrawFeedItems } from "../store/feed";
import { admit } from "../lib/admission";
import type { Clock } from "../lib/clock";
import { zodConverter } from "../lib/converter";
import { idSchema } from "../lib/ids";
import { requireVisibleWish } from "../lib/visibility";
import { MODERATION_CASES, REPORTS, contentReportSchema, contentVersion, moderationCaseId, moderationCaseSchema, reportReasonSchema } from "../model/moderation";
import type { ModerationCase } from "../model/moderation";
import { COMMENTS, COMMENT_TOMBSTONES, commentTombstoneSchema } from "../model/wish";
import type { Wish } from "../model/wish";
import { hiddenWishViewers } from "../wishes/audience";
import { wishesCollection } from "../store/wishes";
import { applyAudience } from "../wishes/manage";

/**
 * Reporting wishes and comments (docs/wishes.md "Reporting", docs/operations.md "Reports"). A viewer reports a wish or
 * one of its comments; the report joins the ops moderation queue (`ops/moderation/cases/{caseId}`, one case per
 * reported thing, one report per person). When REPORT_HIDE_THRESHOLD distinct people have reported it, it is hidden
 * pending review, in the same transaction as that report:
 * - a wish keeps only {@link hiddenWishViewers} in `viewerIds` (its organizer, and its owner unless it is an unrevealed
 *   surprise) and gets `hiddenAt`; everyone else loses it, and its feed items, as if the audience had shrunk;
 * - a comment is taken off the wish; the case keeps its document, to put back if ops keep it. Its id is retired for
 *   good: a tombstone (`wishes/{wishId}/commentTombstones/{commentId}`) that the rules check, so nobody can post a
 *   new comment under it. The case is one per wish and comment id and is no longer open, so a comment re-posted under
 *   a hidden or removed id could never be hidden again; the apps use fresh auto-ids and lose nothing.
 * Ops resolve a case with the admin `resolveReport` (audited like the other ops actions).
 */
export interface ModerationDeps {
  db: Firestore;
  clock: Clock;
}

export const reportContentInput = z
  .object({
    wishId: idSchema,
    /** Absent: the wish itself is reported. */
    commentId: idSchema.optional(),
    reason: reportReasonSchema,
    note: z.string().trim().max(500).optional(),
  })
  .strict();

export const resolveReportInput = z
  .object({ caseId: idSchema, resolution: z.enum(["keep", "remove"]), reason: reasonSchema })
  .strict();

const casesRef = (db: Firestore) => db.collection(MODERATION_CASES).withConverter(zodConverter(moderationCaseSchema));
const reportsRef = (caseRef: DocumentReference) => caseRef.collection(REPORTS).withConverter(zodConverter(contentReportSchema));
const commentRef = (db: Firestore, wishId: string, commentId: string) => wishesCollection(db).doc(wishId).collection(COMMENTS).doc(commentId);
const tombstoneRef = (db: Firestore, wishId: string, commentId: string) =>
  wishesCollection(db).doc(wishId).collection(COMMENT_TOMBSTONES).withConverter(zodConverter(commentTombstoneSchema)).doc(commentId);

/**
 * Takes the case's comment off the wish inside `tx` (when it is there) and retires its id with a tombstone, unless the
 * wish is gone (its comments went with it, and a tombstone would outlive it).
 */
function retireComment(tx: Transaction, db: Firestore, found: ModerationCase, wish: Wish | undefined, comment: DocumentData | undefined, now: Date): void {
  if (found.commentId === null) return;
  if (comment) tx.delete(commentRef(db, found.wishId, found.commentId));
  if (wish) tx.set(tombstoneRef(db, found.wishId, found.commentId), { caseId: moderationCaseId(found.wishId, found.commentId), retiredAt: now });
}

/** What hiding changed: the wish's viewers who lost it (their feed items go after the commit). */
interface Hidden {
  removedViewers: string[];
}

/**
 * Hides the case's content inside `tx` and returns the case fields that record it. The wish (read in `tx`) may be
 * absent when it was deleted meanwhile; then there is nothing left to hide.
 */
function hideContent(tx: Transaction, db: Firestore, found: ModerationCase, wish: Wish | undefined, comment: DocumentData | undefined, now: Date): Partial<ModerationCase> & Hidden {
  if (found.kind === "comment") {
    retireComment(tx, db, found, wish, comment, now);
    return { hiddenAt: now, hiddenComment: comment ?? found.hiddenComment, removedViewers: [] };
  }
  if (!wish) return { hiddenAt: now, removedViewers: [] };
  const viewerIds = hiddenWishViewers(wish);
  tx.update(wishesCollection(db).doc(found.wishId), { hiddenAt: now, viewerIds });
  return { hiddenAt: now, viewerIdsBeforeHide: wish.viewerIds, removedViewers: wish.viewerIds.filter((uid) => !viewerIds.includes(uid)) };
}

/**
 * Puts hidden content back inside `tx`. A wish's viewers are restored; an open wish is recomputed afterwards. A
 * comment's tombstone stays: the comment is back under its id, and once it is deleted the id stays retired.
 */
function unhideContent(tx: Transaction, db: Firestore, found: ModerationCase, wish: Wish | undefined, comment: DocumentData | undefined): void {
  if (!wish) return; // deleted meanwhile: nothing to put back (a deleted wish's comments went with it)
  if (found.kind === "comment") {
    if (!comment && found.commentId && found.hiddenComment) tx.create(commentRef(db, found.wishId, found.commentId), found.hiddenComment);
    return;
  }
  const viewerIds = [...new Set([...(found.viewerIdsBeforeHide ?? []), ...wish.viewerIds])].sort();
  tx.update(wishesCollection(db).doc(found.wishId), { hiddenAt: null, viewerIds });
}

/**
 * `reportContent({wishId, commentId?, reason, note?})`: the caller must see the wish (otherwise the same answer as a
 * missing wish) and not be the author. Reporting the same thing twice changes nothing (`alreadyReported: true`), also
 * after ops kept it, until its organizer changes it (a new version of the content may be reported again).
 */
export async function reportContent(deps: ModerationDeps, uid: string, data: unknown): Promise<{ received: true; alreadyReported: boolean }> {
  const input = parseInput(reportContentInput, data);
  await admit(deps, uid, "reports");
  const { db } = deps;
  const commentId = input.commentId ?? null;
  const caseRef = casesRef(db).doc(moderationCaseId(input.wishId, commentId));
  const reportRef = reportsRef(caseRef).doc(uid);
  const outcome = await db.runTransaction(async (tx) => {
    const [wishSnap, commentSnap, caseSnap, reportSnap] = await Promise.all([
      tx.get(wishesCollection(db).doc(input.wishId)),
      commentId === null ? Promise.resolve(undefined) : tx.get(commentRef(db, input.wishId, commentId)),
      tx.get(caseRef),
      tx.get(reportRef),
    ]);
    const wish = requireVisibleWish(wishSnap.data(), uid);
    const comment = commentSnap?.data();
    if (commentId !== null && !comment) throw new DomainError("comment_not_found", { field: "commentId" });
    const authorId = comment ? String(comment.authorId) : wish.organizerId;
    if (authorId === uid || (!comment && wish.ownerId === uid)) {
      throw new DomainError("report_own_content", { params: { content: comment ? "comment" : "wish" } });
    }
    const content = comment ? { title: null, text: typeof comment.text === "string" ? comment.text : null } : { title: wish.title, text: wish.description };
    const version = contentVersion({ ...content, imageUrl: comment ? null : wish.imageUrl });
    const earlier = reportSnap.data();
    const existingCase = caseSnap.data();
    // One report per person and case: a kept case's reporters may not hide it again by reporting what ops reviewed.
    // But a wish its organizer changed after that review is new content: its earlier reporters may report it again.
    if (earlier && (earlier.round === existingCase?.round || earlier.contentVersion === undefined || earlier.contentVersion === version)) {
      return { alreadyReported: true, removedViewers: [], hidden: false };
    }

    const now = deps.clock.now();
    const found: ModerationCase = existingCase ?? {
      kind: comment ? "comment" : "wish",
      wishId: input.wishId,
      commentId,
      authorId,
      content,
      status: "open",
      reporterCount: 0,
      reasons: {},
      round: 1,
      totalReports: 0,
      firstReportedAt: now,
      lastReportedAt: now,
      hiddenAt: null,
      viewerIdsBeforeHide: null,
      hiddenComment: null,
      resolution: null,
      resolutionReason: null,
      resolvedBy: null,
      resolvedAt: null,
      updatedAt: now,
    };
    // A kept case that is reported again needs review again: a new round, of the content as it is now.
    const newRound = found.status === "kept";
    const status = newRound ? "open" : found.status;
    const reporterCount = found.reporterCount + 1;
    const next: ModerationCase = {
      ...found,
      ...(newRound ? { content } : {}),
      status,
      reporterCount,
      reasons: { ...found.reasons, [input.reason]: (found.reasons[input.reason] ?? 0) + 1 },
      totalReports: found.totalReports + 1,
      lastReportedAt: now,
      updatedAt: now,
    };
    let removedViewers: string[] = [];
    if (status === "open" && reporterCount >= REPORT_HIDE_THRESHOLD) {
      const { removedViewers: removed, ...hidden } = hideContent(tx, db, found, wish, comment, now);
      Object.assign(next, hidden, { status: "hidden" });
      removedViewers = removed;
    }
    tx.set(caseRef, next);
    // set, not create: a report of the content after it changed replaces the person's report of an earlier round.
    tx.set(reportRef, { reporterId: uid, reason: input.reason, note: input.note ? input.note : null, round: next.round, contentVersion: version, createdAt: now });
    return { alreadyReported: false, removedViewers, hidden: next.status === "hidden" && found.status !== "hidden" };
  });
  if (outcome.removedViewers.length) await withdrawFeedItems(db, input.wishId, outcome.removedViewers);
  logger.info("content reported", { caseId: caseRef.id, alreadyReported: outcome.alreadyReported, hidden: outcome.hidden });
  return { received: true, alreadyReported: outcome.alreadyReported };
}

/**
 * `resolveReport({caseId, resolution, reason})` (admins only, audited): `keep` puts hidden content back (a wish's
 * viewers, then a fresh recomputation of an open wish's audience; a comment's document) and starts a new round of
 * reports; `remove` hides it now if it was not hidden yet and for good (the wish stays visible only to its organizer
 * and owner; the comment stays deleted, its text kept in the case).
 */
export async function resolveReport(deps: ModerationDeps, adminUid: string, data: unknown): Promise<{ result: "kept" | "removed" | "unchanged" }> {
  const input = parseInput(resolveReportInput, data);
  const { db } = deps;
  const action = input.resolution === "keep" ? "keepReportedContent" : "removeReportedContent";
  return audited(deps, { action, actorId: adminUid, target: `${MODERATION_CASES}/${input.caseId}`, reason: input.reason }, async () => {
    const caseRef = casesRef(db).doc(input.caseId);
    const outcome = await db.runTransaction(async (tx) => {
      const found = (await tx.get(caseRef)).data();
      if (!found) throw new DomainError("moderation_case_not_found", { field: "caseId" });
      const [wishSnap, commentSnap] = await Promise.all([
        tx.get(wishesCollection(db).doc(found.wishId)),
        found.commentId === null ? Promise.resolve(undefined) : tx.get(commentRef(db, found.wishId, found.commentId)),
      ]);
      const wish = wishSnap.data();
      const comment = commentSnap?.data();
      const now = deps.clock.now();
      const resolved = { resolution: input.resolution, resolutionReason: input.reason, resolvedBy: adminUid, resolvedAt: now, updatedAt: now };
      if (input.resolution === "keep") {
        if (found.status === "kept") return { result: "unchanged" as const, removedViewers: [], recompute: false };
        if (found.hiddenAt) unhideContent(tx, db, found, wish, comment);
        tx.set(caseRef, {
          ...found,
          ...resolved,
          status: "kept",
          round: found.round + 1,
          reporterCount: 0,
          reasons: {},
          hiddenAt: null,
          viewerIdsBeforeHide: null,
          hiddenComment: null,
        });
        return { result: "kept" as const, removedViewers: [], recompute: found.kind === "wish" && wish?.status === "open" };
      }
      if (found.status === "removed") return { result: "unchanged" as const, removedViewers: [], recompute: false };
      const { removedViewers, ...hidden } = found.hiddenAt ? { removedViewers: [] } : hideContent(tx, db, found, wish, comment, now);
      // Already hidden: a comment hidden before ids were retired may have been re-posted under its id; it goes too
      // (the case keeps the hidden original), and the id is retired now.
      if (found.hiddenAt && found.kind === "comment") retireComment(tx, db, found, wish, comment, now);
      tx.set(caseRef, { ...found, ...hidden, ...resolved, status: "removed" });
      return { result: "removed" as const, removedViewers, recompute: false };
    });
    const found = (await caseRef.get()).data();
    if (found && outcome.removedViewers.length) await withdrawFeedItems(db, found.wishId, outcome.removedViewers);
    // Kept: the audience may have changed while the wish was hidden (friendships, groups): recompute it as it is now.
    if (found && outcome.recompute) await applyAudience(deps, wishesCollection(db).doc(found.wishId));
    return { result: outcome.result };
  });
}
