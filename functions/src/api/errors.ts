import { HttpsError } from "firebase-functions/v2/https";
import type { CallableRequest } from "firebase-functions/v2/https";
import { DomainError } from "../lib/errors";
import { logger } from "../lib/log";

/**
 * The one mapping of a domain error to what a callable answers: its catalogue code (src/lib/errors.ts), its message,
 * and `details: { reason, field?, ...params }` for the app to switch on.
 */
export function toHttpsError(error: DomainError): HttpsError {
  return new HttpsError(error.code, error.message, { reason: error.reason, ...(error.field !== undefined ? { field: error.field } : {}), ...error.params });
}

/** The caller's uid, or `sign_in_required` (`unauthenticated`). Callables check this first. */
export function requireAuth(request: Pick<CallableRequest, "auth">): string {
  const uid = request.auth?.uid;
  if (!uid) throw new DomainError("sign_in_required", "Sign in first.");
  return uid;
}

/** The caller's uid when they carry the `admin` custom claim, else `admin_only` (`permission-denied`). */
export function requireAdmin(request: Pick<CallableRequest, "auth">): string {
  const uid = requireAuth(request);
  if (request.auth?.token.admin !== true) throw new DomainError("admin_only", "Admins only.");
  return uid;
}

/**
 * Wraps a callable handler: a DomainError becomes its HttpsError ({@link toHttpsError}); an HttpsError of the api layer
 * passes through; anything else is logged with its stack and becomes `internal` with a generic message, so provider or
 * database messages never reach clients.
 */
export function callable<T>(name: string, handler: () => Promise<T>): Promise<T> {
  return Promise.resolve()
    .then(handler)
    .catch((error: unknown) => {
      if (error instanceof DomainError) throw toHttpsError(error);
      if (error instanceof HttpsError) throw error;
      logger.error("callable failed", { callable: name, error: error instanceof Error ? error.stack : String(error) });
      throw new HttpsError("internal", "Something went wrong on our side. Please try again.");
    });
}
