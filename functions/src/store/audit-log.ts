import type { Firestore } from "firebase-admin/firestore";
import { z } from "zod";
import type { Clock } from "../lib/clock";
import { zodConverter } from "../lib/converter";
import { DomainError } from "../lib/errors";
import { logger } from "../lib/log";
import { AUDIT_LOG, auditEntrySchema } from "../model/closing";
import type { AuditEntry } from "../model/closing";

/**
 * The ops audit log (docs/operations.md): every admin action, including a refused one, is written to `auditLog/{id}`
 * with who did it, to what, why and what happened. Used by the ops actions (src/ops/) and by moderation.
 */

/** Why an admin acted: every audited action asks for it. */
export const reasonSchema = z.string().trim().min(3).max(500);

const auditConverter = zodConverter(auditEntrySchema);

async function audit(deps: { db: Firestore; clock: Clock }, entry: Omit<AuditEntry, "at">): Promise<void> {
  await deps.db.collection(AUDIT_LOG).withConverter(auditConverter).add({ ...entry, at: deps.clock.now() });
  logger.info("ops action", { action: entry.action, actorId: entry.actorId, target: entry.target, result: entry.result });
}

/**
 * Runs `action`, auditing its result, the DomainError code that refused it, or the class of an unexpected error (an
 * action that failed halfway may have changed something: ops find it in the log, as the runbooks tell them to look).
 */
export async function audited<T extends { result: string }>(
  deps: { db: Firestore; clock: Clock },
  entry: Omit<AuditEntry, "at" | "result">,
  action: () => Promise<T>,
): Promise<T> {
  try {
    const outcome = await action();
    await audit(deps, { ...entry, result: outcome.result });
    return outcome;
  } catch (error) {
    if (error instanceof DomainError) await audit(deps, { ...entry, result: `refused: ${error.code}` });
    else {
      const name = error instanceof Error ? error.name : "UnknownError";
      const code = (error as { code?: unknown }).code;
      // Best effort: the action's own error is what the caller must see, not a failure to write its entry.
      await audit(deps, { ...entry, result: `error: ${name}${typeof code === "string" || typeof code === "number" ? ` (${code})` : ""}` }).catch((auditError: unknown) =>
        logger.error("ops action failed and could not be audited", { action: entry.action, target: entry.target, error: String(auditError) }),
      );
    }
    throw error;
  }
}

