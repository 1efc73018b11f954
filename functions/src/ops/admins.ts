import type { Auth, UserRecord } from "firebase-admin/auth";
import type { Firestore } from "firebase-admin/firestore";
import { DomainError } from "../lib/errors";
import { audited } from "../store/audit-log";
import type { Clock } from "../lib/clock";

/**
 * Granting and revoking the `admin: true` custom claim (docs/operations.md, "Granting admin"): the claim is merged
 * into the user's other claims, never replaces them, and every change is audited like any other ops action. The
 * user's ID token carries the new claim after their next sign-in or token refresh (at most an hour).
 */
export interface AdminClaimDeps {
  auth: Auth;
  db: Firestore;
  clock: Clock;
}

export type AdminChange = { result: "granted" | "revoked" | "unchanged"; uid: string; email: string | null };

/** Finds a user by uid, or by email when `who` contains `@`. */
async function findUser(auth: Auth, who: string): Promise<UserRecord> {
  try {
    return who.includes("@") ? await auth.getUserByEmail(who) : await auth.getUser(who);
  } catch (error) {
    if ((error as { code?: string }).code === "auth/user-not-found") throw new DomainError("user_not_found", { params: { user: who } });
    throw error;
  }
}

/** Sets (`admin` true) or removes the admin claim of the user `who` (uid or email), audited with `actorId` and `reason`. */
export async function setAdminClaim(deps: AdminClaimDeps, who: string, admin: boolean, actorId: string, reason: string): Promise<AdminChange> {
  if (reason.trim().length < 3) throw new DomainError("invalid_input", { field: "reason", params: { problem: "too_short", min: 3 } });
  // An unknown user is a refusal like any other, audited ("refused: not-found") under the uid or email given.
  let found: UserRecord | DomainError;
  try {
    found = await findUser(deps.auth, who);
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    found = error;
  }
  const action = admin ? "grantAdmin" : "revokeAdmin";
  const target = `users/${found instanceof DomainError ? who : found.uid}`;
  return audited(deps, { action, actorId, target, reason: reason.trim() }, async () => {
    if (found instanceof DomainError) throw found;
    const user = found;
    const claims: Record<string, unknown> = { ...(user.customClaims ?? {}) };
    const isAdmin = claims.admin === true;
    if (isAdmin === admin) return { result: "unchanged" as const, uid: user.uid, email: user.email ?? null };
    if (admin) claims.admin = true;
    else delete claims.admin;
    await deps.auth.setCustomUserClaims(user.uid, claims);
    return { result: admin ? ("granted" as const) : ("revoked" as const), uid: user.uid, email: user.email ?? null };
  });
}
