import { createHash } from "node:crypto";
import { z } from "zod";

/**
 * Reports of wishes and comments, and the ops moderation queue (docs/operations.md, "Reports"). Server-written only
 * (the `reportContent` and admin `resolveReport` callables); admins read them in the console (rules: `ops/**`).
 */

export const REPORT_REASONS = ["spam", "harassment", "hate", "sexual", "violence", "scam", "other"] as const;
export const reportReasonSchema = z.enum(REPORT_REASONS);

/**
 * - `open`: reported by fewer distinct people than the threshold (src/config.ts); waits for review, still visible.
 * - `hidden`: the threshold was reached: the content is hidden pending review.
 * - `kept`: ops reviewed it and kept it (visible again); later reports start a new round.
 * - `removed`: ops removed it: the wish stays hidden for good, the comment stays deleted.
 */
export const CASE_STATUSES = ["open", "hidden", "kept", "removed"] as const;

/** `ops/moderation/cases/{caseId}`: one reported wish or comment and its state in the queue. */
export const moderationCaseSchema = z.object({
  kind: z.enum(["wish", "comment"]),
  wishId: z.string(),
  commentId: z.string().nullable(),
  /** Who wrote the content: the wish's organizer, or the comment's author. */
  authorId: z.string(),
  /** What was reported, as it was at the first report (ops read it even while the content is hidden or deleted). */
  content: z.object({ title: z.string().nullable(), text: z.string().nullable() }),
  status: z.enum(CASE_STATUSES),
  /** Distinct reporters in the current round (a round ends when ops keep the content). */
  reporterCount: z.number().int(),
  /** Reports in this round per reason. */
  reasons: z.record(z.string(), z.number().int()),
  round: z.number().int(),
  totalReports: z.number().int(),
  firstReportedAt: z.date(),
  lastReportedAt: z.date(),
  hiddenAt: z.date().nullable(),
  /** A hidden wish's viewers before it was hidden (restored when ops keep it). */
  viewerIdsBeforeHide: z.array(z.string()).nullable(),
  /** A hidden comment's document as it was before it was taken off the wish (restored when ops keep it). */
  hiddenComment: z.record(z.string(), z.unknown()).nullable(),
  resolution: z.enum(["keep", "remove"]).nullable(),
  resolutionReason: z.string().nullable(),
  resolvedBy: z.string().nullable(),
  resolvedAt: z.date().nullable(),
  updatedAt: z.date(),
});
export type ModerationCase = z.infer<typeof moderationCaseSchema>;

/**
 * `ops/moderation/cases/{caseId}/reports/{reporterId}`: one person's latest report. One per person and case, except
 * that after ops kept the content, a person may report it again once it has changed (the organizer edited the wish):
 * that report replaces theirs, in the new round.
 */
export const contentReportSchema = z.object({
  reporterId: z.string(),
  reason: reportReasonSchema,
  note: z.string().nullable(),
  round: z.number().int(),
  /** Which version of the content was reported ({@link contentVersion}); absent on reports from before it was kept. */
  contentVersion: z.string().optional(),
  createdAt: z.date(),
});

/** A fingerprint of what a report is about: a wish's title, description and image; a comment's text. */
export function contentVersion(content: { title: string | null; text: string | null; imageUrl?: string | null }): string {
  return createHash("sha256")
    .update(JSON.stringify([content.title, content.text, content.imageUrl ?? null]))
    .digest("base64url")
    .slice(0, 22);
}

export const MODERATION_CASES = "ops/moderation/cases";
export const REPORTS = "reports";

/**
 * A case's id: a hash of what it is about (ids may contain any separator we could choose), prefixed with the kind so
 * ops can tell them apart in the console. The case's fields carry the wish and comment ids.
 */
export function moderationCaseId(wishId: string, commentId: string | null): string {
  const hash = createHash("sha256")
    .update(commentId === null ? `wish\u0000${wishId}` : `comment\u0000${wishId}\u0000${commentId}`)
    .digest("base64url")
    .slice(0, 22);
  return `${commentId === null ? "wish" : "comment"}-${hash}`;
}
