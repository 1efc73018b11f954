import { onCall } from "firebase-functions/v2/https";
import type { CallableOptions, CallableRequest } from "firebase-functions/v2/https";
import { DomainError } from "../lib/errors";
import { callable, callerLocale } from "./errors";

/**
 * App Check on every callable (docs/client-setup.md, docs/security.md "App Check"). Every callable is declared through
 * {@link appCallable} or {@link replayProtectedCallable}, so none can be deployed without enforcement.
 *
 * - `enforceAppCheck`: firebase-functions answers `unauthenticated` (HTTP 401) before our handler runs when the
 *   request has no App Check token or an invalid one. In production the Admin SDK verifies the token's signature
 *   against App Check's keys. The Functions emulator sets FIREBASE_DEBUG_FEATURES.skipTokenVerification, under which
 *   firebase-functions decodes the token without verifying it (the emulator cannot reach App Check); a missing token is
 *   refused there too. Nothing in our code switches enforcement off anywhere.
 * - `consumeAppCheckToken` (the money callables): the Admin SDK marks the token used with App Check's backend; a token
 *   seen before arrives with `request.app.alreadyConsumed === true`, which firebase-functions leaves to the handler:
 *   {@link requireUnusedAppCheckToken} refuses it (`app_check_token_reused`). The apps send a limited-use token with
 *   these calls.
 */
export const APP_CHECK_OPTIONS = { enforceAppCheck: true } as const;
export const REPLAY_PROTECTED_OPTIONS = { enforceAppCheck: true, consumeAppCheckToken: true } as const;

type ExtraOptions = Omit<CallableOptions, "enforceAppCheck" | "consumeAppCheckToken">;
type Handler<T> = (request: CallableRequest) => Promise<T>;

/** A replayed (already consumed) or absent App Check token is refused with `unauthenticated`. */
export function requireUnusedAppCheckToken(request: Pick<CallableRequest, "app">): void {
  if (!request.app) throw new DomainError("app_check_missing");
  if (request.app.alreadyConsumed === true) throw new DomainError("app_check_token_reused");
}

/** A callable with App Check enforced; errors pass through {@link callable} (anything unexpected becomes `internal`). */
export function appCallable<T>(name: string, handler: Handler<T>, options: ExtraOptions = {}) {
  return onCall({ ...options, ...APP_CHECK_OPTIONS }, (request) => callable(name, () => handler(request), callerLocale(request)));
}

/** A money callable: App Check enforced and each token usable once (replay protection). */
export function replayProtectedCallable<T>(name: string, handler: Handler<T>, options: ExtraOptions = {}) {
  return onCall({ ...options, ...REPLAY_PROTECTED_OPTIONS }, (request) =>
    callable(name, async () => {
      requireUnusedAppCheckToken(request);
      return handler(request);
    }, callerLocale(request)),
  );
}
