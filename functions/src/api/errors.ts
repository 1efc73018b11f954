import { HttpsError } from "firebase-functions/v2/https";
import type { CallableRequest } from "firebase-functions/v2/https";
import { DomainError } from "../lib/errors";
import { DEFAULT_LOCALE, localeFromAcceptLanguage, toLocale } from "../lib/locale";
import type { Locale } from "../lib/locale";
import { logger } from "../lib/log";
import { accountRef } from "../store/social";
import { db } from "./deps";

/**
 * The one mapping of a domain error to what a callable answers: its catalogue code (src/lib/error-catalogue.ts), its
 * message in `locale`, and `details: { reason, field?, ...params }` for the app to switch on (docs/errors.md).
 */
export function toHttpsError(error: DomainError, locale: Locale = DEFAULT_LOCALE): HttpsError {
  return new HttpsError(error.code, error.messageIn(locale), { reason: error.reason, ...(error.field !== undefined ? { field: error.field } : {}), ...error.params });
}

/** The caller's uid, or `sign_in_required` (`unauthenticated`). Callables check this first. */
export function requireAuth(request: Pick<CallableRequest, "auth">): string {
  const uid = request.auth?.uid;
  if (!uid) throw new DomainError("sign_in_required");
  return uid;
}

/** The caller's uid when they carry the `admin` custom claim, else `admin_only` (`permission-denied`). */
export function requireAdmin(request: Pick<CallableRequest, "auth">): string {
  const uid = requireAuth(request);
  if (request.auth?.token.admin !== true) throw new DomainError("admin_only");
  return uid;
}

/** The caller's language for an error message; only looked up when a call fails. */
export type LocaleOf = () => Promise<Locale>;

/**
 * The caller's locale (docs/errors.md "Language"): the request's `Accept-Language` header when it names a language we
 * speak (browsers and iOS send it), else the account's `settings.locale` (Android's HTTP client sends no header), else
 * English. A failure to read the settings answers in English rather than hide the error.
 */
export function callerLocale(request: Pick<CallableRequest, "auth" | "rawRequest">, readSettingsLocale = settingsLocale): LocaleOf {
  return async () => {
    const fromHeader = localeFromAcceptLanguage(request.rawRequest?.headers?.["accept-language"]);
    if (fromHeader) return fromHeader;
    const uid = request.auth?.uid;
    if (!uid) return DEFAULT_LOCALE;
    return (await readSettingsLocale(uid).catch(() => undefined)) ?? DEFAULT_LOCALE;
  };
}

async function settingsLocale(uid: string): Promise<Locale | undefined> {
  const locale: unknown = (await accountRef(db(), uid).get()).get("settings.locale");
  return toLocale(locale);
}

/**
 * Wraps a callable handler: a DomainError becomes its HttpsError ({@link toHttpsError}) in the caller's locale; an
 * HttpsError of the api layer passes through; anything else is logged with its stack and becomes `internal` (reason
 * `internal`) with a generic message, so provider or database messages never reach clients.
 */
export function callable<T>(name: string, handler: () => Promise<T>, localeOf: LocaleOf = () => Promise.resolve(DEFAULT_LOCALE)): Promise<T> {
  return Promise.resolve()
    .then(handler)
    .catch(async (error: unknown) => {
      if (error instanceof HttpsError) throw error;
      if (error instanceof DomainError) throw toHttpsError(error, await localeOf());
      logger.error("callable failed", { callable: name, error: error instanceof Error ? error.stack : String(error) });
      throw toHttpsError(new DomainError("internal"), await localeOf());
    });
}
