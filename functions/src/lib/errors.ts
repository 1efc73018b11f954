import { HttpsError } from "firebase-functions/v2/https";
import type { CallableRequest } from "firebase-functions/v2/https";
import * as logger from "firebase-functions/logger";
import type { z } from "zod";

/** Readable zod failures: "Field 'title' must be at most 120 characters". The first issue names the field. */
export function describeZodError(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const field = issue.path.length ? issue.path.map(String).join(".") : "(request)";
      return `Field '${field}': ${issue.message}`;
    })
    .join("; ");
}

/** Validates callable input; a failure is `invalid-argument` with a message naming the field(s). */
export function parseInput<S extends z.ZodType>(schema: S, data: unknown): z.infer<S> {
  const result = schema.safeParse(data ?? {});
  if (!result.success) throw new HttpsError("invalid-argument", describeZodError(result.error));
  return result.data;
}

/** The caller's uid, or `unauthenticated`. Callables check this first. */
export function requireAuth(request: Pick<CallableRequest, "auth">): string {
  const uid = request.auth?.uid;
  if (!uid) throw new HttpsError("unauthenticated", "Sign in first.");
  return uid;
}

/** The caller's uid when they carry the `admin` custom claim, else `permission-denied`. */
export function requireAdmin(request: Pick<CallableRequest, "auth">): string {
  const uid = requireAuth(request);
  if (request.auth?.token.admin !== true) throw new HttpsError("permission-denied", "Admins only.");
  return uid;
}

/**
 * Wraps a callable handler: HttpsErrors pass through; anything else is logged with its stack and becomes
 * `internal` with a generic message, so provider or database messages never reach clients.
 */
export function callable<T>(name: string, handler: () => Promise<T>): Promise<T> {
  return handler().catch((error: unknown) => {
    if (error instanceof HttpsError) throw error;
    logger.error("callable failed", { callable: name, error: error instanceof Error ? error.stack : String(error) });
    throw new HttpsError("internal", "Something went wrong on our side. Please try again.");
  });
}
