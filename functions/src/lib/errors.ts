import type { z } from "zod";

/**
 * The one error type of the domain (docs/architecture.md "Errors"). Domain modules throw {@link DomainError}; they never
 * import firebase-functions. The api layer turns it into an `HttpsError(code, message, details)` in one function
 * (src/api/errors.ts), with `details: { reason, field?, ...params }`.
 *
 * Every reason is listed once in {@link DOMAIN_ERRORS} with the callable code it is answered with, so a reason always
 * travels with the same code and the catalogue is the list a client can switch on. Reasons are stable snake_case:
 * rename one only together with the apps. Messages are for people (they may change); `params` are safe to show
 * (ids, amounts, statuses, limits), never provider messages or secrets.
 */
export const DOMAIN_ERRORS = {
  // input and identity
  invalid_input: "invalid-argument",
  sign_in_required: "unauthenticated",
  admin_only: "permission-denied",
  not_signed_up: "failed-precondition",
  session_signed_out: "unauthenticated",
  rate_limited: "resource-exhausted",
  concurrent_requests: "aborted",
  request_id_reused: "already-exists",
  provider_unavailable: "unavailable",
  // social
  facebook_not_linked: "failed-precondition",
  facebook_token_invalid: "unauthenticated",
  facebook_token_wrong_app: "unauthenticated",
  facebook_token_wrong_user: "unauthenticated",
  facebook_unavailable: "unavailable",
  user_not_found: "not-found",
  friend_request_to_self: "invalid-argument",
  already_friends: "failed-precondition",
  friend_request_exists: "failed-precondition",
  friend_request_reverse_exists: "failed-precondition",
  friend_request_not_found: "not-found",
  unfriend_self: "invalid-argument",
  not_friends: "not-found",
  group_not_found: "not-found",
  group_limit_reached: "failed-precondition",
  group_member_not_friend: "failed-precondition",
  // wishes, comments, moderation
  wish_not_visible: "permission-denied",
  wish_not_found: "not-found",
  not_organizer: "permission-denied",
  wish_not_open: "failed-precondition",
  wish_has_donations: "failed-precondition",
  surprise_for_self: "invalid-argument",
  recipient_not_friend: "invalid-argument",
  audience_group_not_found: "invalid-argument",
  audience_user_not_in_circle: "invalid-argument",
  comment_not_found: "not-found",
  report_own_content: "failed-precondition",
  moderation_case_not_found: "not-found",
  // donations
  donate_own_wish: "permission-denied",
  wish_frozen: "failed-precondition",
  wish_deadline_passed: "failed-precondition",
  currency_mismatch: "invalid-argument",
  amount_too_small: "invalid-argument",
  amount_over_remaining: "failed-precondition",
  donation_not_found: "not-found",
  donation_already_final: "failed-precondition",
  donation_already_paid: "failed-precondition",
  donation_processing: "failed-precondition",
  // refunds and payouts (ops)
  refund_not_failed: "failed-precondition",
  nothing_to_refund: "failed-precondition",
  payout_not_found: "not-found",
  payout_not_failed: "failed-precondition",
  dead_letter_not_found: "not-found",
  dead_letter_not_redrivable: "failed-precondition",
  dead_letter_still_unreadable: "failed-precondition",
} as const satisfies Record<string, DomainErrorCode>;

/** The callable codes a domain error may carry (a subset of firebase-functions' FunctionsErrorCode). */
export type DomainErrorCode =
  | "invalid-argument"
  | "unauthenticated"
  | "permission-denied"
  | "not-found"
  | "already-exists"
  | "failed-precondition"
  | "resource-exhausted"
  | "aborted"
  | "unavailable";

export type DomainErrorReason = keyof typeof DOMAIN_ERRORS;
export type DomainErrorParams = Record<string, string | number | boolean | string[] | null>;

export class DomainError extends Error {
  readonly code: DomainErrorCode;
  readonly field: string | undefined;
  readonly params: DomainErrorParams;

  constructor(
    readonly reason: DomainErrorReason,
    message: string,
    options: { field?: string; params?: DomainErrorParams } = {},
  ) {
    super(message);
    this.name = "DomainError";
    this.code = DOMAIN_ERRORS[reason];
    this.field = options.field;
    this.params = options.params ?? {};
  }
}

/** Readable zod failures: "Field 'title' must be at most 120 characters". The first issue names the field. */
export function describeZodError(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const field = issue.path.length ? issue.path.map(String).join(".") : "(request)";
      return `Field '${field}': ${issue.message}`;
    })
    .join("; ");
}

/** Validates input; a failure is `invalid_input` (`invalid-argument`) with a message naming the field(s). */
export function parseInput<S extends z.ZodType>(schema: S, data: unknown): z.infer<S> {
  const result = schema.safeParse(data ?? {});
  if (!result.success) {
    const path = result.error.issues[0]?.path ?? [];
    throw new DomainError("invalid_input", describeZodError(result.error), path.length ? { field: path.map(String).join(".") } : {});
  }
  return result.data;
}
