import type { z } from "zod";
import { ERROR_CATALOGUE, renderErrorMessage } from "./error-catalogue";
import type { DomainErrorCode, DomainErrorParams, DomainErrorReason } from "./error-catalogue";
import { describeIssue } from "./input-problems";
import { DEFAULT_LOCALE } from "./locale";
import type { Locale } from "./locale";

export type { DomainErrorCode, DomainErrorParams, DomainErrorReason } from "./error-catalogue";

/**
 * The one error type of the domain (docs/architecture.md "Errors", docs/errors.md). Domain modules throw
 * {@link DomainError} with a reason from the catalogue (src/lib/error-catalogue.ts), the field it is about and the
 * params a reader needs; they never write the message, and never import firebase-functions. The api layer turns it into
 * `HttpsError(code, message in the caller's locale, { reason, field?, ...params })` in one function
 * (src/api/errors.ts). `message` is the English rendering, for logs and ops records.
 */
export class DomainError extends Error {
  readonly code: DomainErrorCode;
  readonly field: string | undefined;
  readonly params: DomainErrorParams;

  constructor(
    readonly reason: DomainErrorReason,
    options: { field?: string; params?: DomainErrorParams } = {},
  ) {
    super(renderErrorMessage(reason, options.field, options.params ?? {}, DEFAULT_LOCALE));
    this.name = "DomainError";
    this.code = ERROR_CATALOGUE[reason].code;
    this.field = options.field;
    this.params = options.params ?? {};
  }

  /** The message in `locale` (the api layer answers in the caller's). */
  messageIn(locale: Locale): string {
    return renderErrorMessage(this.reason, this.field, this.params, locale);
  }
}

/** The first problem of a zod failure as an `invalid_input` error: one problem per error, naming its field. */
export function invalidInput(error: z.ZodError, data: unknown): DomainError {
  const first = error.issues[0];
  if (!first) return new DomainError("invalid_input", { field: "(request)", params: { problem: "invalid" } });
  const { field, problem, params } = describeIssue(first, data);
  return new DomainError("invalid_input", { field, params: { problem, ...params } });
}

/** Validates input; a failure is `invalid_input` (`invalid-argument`) about the first field that is wrong. */
export function parseInput<S extends z.ZodType>(schema: S, data: unknown): z.infer<S> {
  const input = data ?? {};
  const result = schema.safeParse(input);
  if (!result.success) throw invalidInput(result.error, input);
  return result.data;
}

/** A zod failure in English, one line (for logs and dead letters, where several problems help the reader). */
export function describeZodError(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const field = issue.path.length ? issue.path.map(String).join(".") : "(request)";
      return `Field '${field}': ${issue.message}`;
    })
    .join("; ");
}
