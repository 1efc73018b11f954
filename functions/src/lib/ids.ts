import { z } from "zod";
import type { CustomProblem } from "./input-problems";

/**
 * The one schema for every document id a client (or a task payload) hands us: a wish, comment, donation, group, user,
 * device, report case, notification. Firestore's own rules for a document id are: valid UTF-8, at most 1,500 bytes,
 * no '/', not '.' or '..', and not matching `__.*__` (reserved). An id that breaks them would either escape its
 * collection (`wishes/{id}` with id `w1/followers/u2` names a document under the wish) or make Firestore throw,
 * which a callable would report as `internal`, telling a hidden wish apart from a missing one. Every callable parses
 * its input with these schemas first, so a bad id is `invalid-argument` naming the field, before any read.
 * docs/security.md ("Ids") lists the rules and the limits below.
 */

/** Firestore's limit on a document id. */
export const DOCUMENT_ID_MAX_BYTES = 1500;

/**
 * Our tighter limit for the ids of our entities. Firebase Auth uids are at most 128 characters; our generated ids
 * (Firestore auto-ids, hashed request ids) are 20-28. 128 characters are at most 512 bytes of UTF-8.
 */
export const ID_MAX_CHARS = 128;

/**
 * Why `value` cannot be a Firestore document id, as an input problem (lib/input-problems.ts), or null when it can (the
 * length limits are checked apart).
 */
export function documentIdProblem(value: string): CustomProblem | null {
  if (value.includes("/")) return "id_has_slash";
  if (value === "." || value === "..") return "id_is_dots";
  if (/^__.*__$/s.test(value)) return "id_reserved";
  return null;
}

function firestoreIdRules(value: string, ctx: z.RefinementCtx): void {
  const problem = documentIdProblem(value);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
}

/** The id of one of our entities (user, wish, comment, donation, group, device, report case, task payload ids). */
export const idSchema = z
  .string()
  .min(1)
  .max(ID_MAX_CHARS)
  .superRefine(firestoreIdRules);

/**
 * An id the server derived from something longer (a notification's id is its domain event's id): Firestore's own
 * limit of 1,500 bytes applies instead of ours.
 */
export const longIdSchema = z
  .string()
  .min(1)
  .refine((value) => Buffer.byteLength(value, "utf8") <= DOCUMENT_ID_MAX_BYTES, "id_too_many_bytes")
  .superRefine(firestoreIdRules);
