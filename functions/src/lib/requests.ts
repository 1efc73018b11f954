import { createHash } from "node:crypto";
import { z } from "zod";

/**
 * Client request ids: a callable that creates something takes an optional `requestId`, chosen by the app once per
 * user action and sent again on every retry of it. The created document's id is derived from (caller, requestId), so
 * a retry names the same document and creates nothing new, even when the first answer was lost.
 */
export const requestIdSchema = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, "request_id_format");

/** The document id of a caller's request: the same (uid, requestId) always names the same document. */
export function requestDocId(uid: string, requestId: string): string {
  return createHash("sha256").update(`${uid}\u0000${requestId}`).digest("base64url").slice(0, 22);
}
