// The one error type (src/lib/errors.ts), its catalogue (src/lib/error-catalogue.ts, docs/errors.md), its input problems
// (src/lib/input-problems.ts) and its one mapping to HttpsError in the caller's locale (src/api/errors.ts). Pure; no
// emulator.
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { HttpsError } from "firebase-functions/v2/https";
import { z } from "zod";
import { callable, callerLocale, requireAdmin, requireAuth, toHttpsError } from "../../src/api/errors";
import { requireUnusedAppCheckToken } from "../../src/api/callable";
import { donateInput } from "../../src/donations/donate";
import { ERROR_CATALOGUE } from "../../src/lib/error-catalogue";
import type { DomainErrorReason } from "../../src/lib/error-catalogue";
import { DomainError, parseInput } from "../../src/lib/errors";
import { CUSTOM_PROBLEMS, INPUT_PROBLEMS, sayProblem } from "../../src/lib/input-problems";
import { localeFromAcceptLanguage, LOCALES } from "../../src/lib/locale";
import { wishIdInput } from "../../src/wishes/input";
import { createWishInput } from "../../src/wishes/input";

const HTTPS_CODES = new Set(["invalid-argument", "unauthenticated", "permission-denied", "not-found", "already-exists", "failed-precondition", "resource-exhausted", "aborted", "unavailable", "internal"]);
const NOW = new Date("2026-11-30T12:00:00Z");

/** Params that fill every template (each reason's own, plus the ones invalid_input and rate_limited need). */
const SAMPLE_PARAMS = {
  problem: "too_long",
  max: 120,
  min: 1500,
  currency: "CZK",
  status: "funded",
  action: "donations",
  limit: 10,
  windowSeconds: 3600,
  retryAt: "2026-11-30T13:00:00.000Z",
  retryAfterSeconds: 1800,
  uids: ["u1", "u2"],
  user: "someone@example.com",
  groupId: "g1",
  userId: "u9",
  why: "not_mutual",
  content: "comment",
  maxChars: 9000,
};

/** Every file under src/, for the scan of schema messages. */
function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? sourceFiles(full) : full.endsWith(".ts") ? [full] : [];
  });
}

/** The DomainError a throwing call throws. */
function thrown(run: () => unknown): DomainError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof DomainError, String(error));
    return error;
  }
  assert.fail("expected a DomainError");
}

describe("domain errors and their mapping", () => {
  it("every reason in the catalogue is snake_case, carries a callable code, says when and what to do, and reads in every locale", () => {
    for (const [reason, entry] of Object.entries(ERROR_CATALOGUE)) {
      assert.match(reason, /^[a-z]+(_[a-z]+)*$/, reason);
      assert.ok(HTTPS_CODES.has(entry.code), `${reason}: ${entry.code}`);
      assert.ok(entry.when.length > 10 && entry.app.length > 5, `${reason}: when/app`);
      const error = new DomainError(reason as DomainErrorReason, { field: "amount", params: SAMPLE_PARAMS });
      const messages = LOCALES.map((locale) => error.messageIn(locale));
      for (const message of messages) assert.ok(message.length > 5 && !/undefined|NaN|\[object/.test(message), `${reason}: ${message}`);
      assert.equal(new Set(messages).size, LOCALES.length, `${reason}: the Czech message is not the English one`);
      assert.equal(error.message, error.messageIn("en"), "message is the English rendering");
    }
  });

  it("every input problem reads in every locale", () => {
    for (const problem of INPUT_PROBLEMS) {
      for (const locale of LOCALES) assert.ok(sayProblem(problem, { min: 2, max: 3, expected: "string", allowed: ["a", "b"], inclusive: true }, locale).length > 3, `${problem} ${locale}`);
    }
  });

  it("a DomainError maps to HttpsError(code, message in the caller's locale, {reason, field, ...params})", () => {
    const error = new DomainError("amount_too_small", { field: "amount", params: { min: 1500, currency: "CZK" } });
    assert.equal(error.code, "invalid-argument");
    const english = toHttpsError(error);
    assert.ok(english instanceof HttpsError);
    assert.equal(english.code, "invalid-argument");
    assert.match(english.message, /^Field 'amount': must be at least CZK\s15\.00\.$/);
    assert.deepEqual(english.details, { reason: "amount_too_small", field: "amount", min: 1500, currency: "CZK" });
    const czech = toHttpsError(error, "cs");
    assert.match(czech.message, /^Pole 'amount': musí být alespoň 15,00\sKč\.$/);
    assert.deepEqual(czech.details, english.details, "details do not depend on the language");
    assert.deepEqual(toHttpsError(new DomainError("wish_not_visible")).details, { reason: "wish_not_visible" });
  });

  it("parseInput refuses with invalid_input about one problem: the first field, never several joined", () => {
    const error = thrown(() => parseInput(z.object({ wish: z.object({ title: z.string() }), amount: z.number().int() }).strict(), { wish: { title: 7 }, amount: 1.5, extra: true }));
    assert.equal(error.reason, "invalid_input");
    assert.equal(error.field, "wish.title");
    assert.deepEqual(error.params, { problem: "wrong_type", expected: "string" });
    assert.equal(error.message, "Field 'wish.title': must be a string");
    assert.doesNotMatch(error.message, /;/);
    assert.equal(error.messageIn("cs"), "Pole 'wish.title': musí být text (řetězec)");
  });

  it("tells a missing field from a wrong one, and names an unknown field", () => {
    const schema = z.object({ wishId: z.string() }).strict();
    assert.deepEqual(thrown(() => parseInput(schema, {})).params, { problem: "missing" });
    assert.equal(thrown(() => parseInput(schema, undefined)).message, "Field 'wishId': is missing");
    const extra = thrown(() => parseInput(schema, { wishId: "w1", admin: true }));
    assert.equal(extra.field, "admin");
    assert.equal(extra.params.problem, "unknown_field");
  });

  it("the same mistake reads the same in every callable (createWish, donate, closeWish)", () => {
    const bad = "a/b";
    const fromDonate = thrown(() => parseInput(donateInput, { wishId: bad, amount: 2000, currency: "CZK", requestId: "req-00000001" }));
    const fromClose = thrown(() => parseInput(wishIdInput, { wishId: bad }));
    assert.equal(fromDonate.message, fromClose.message);
    assert.deepEqual(fromDonate.params, { problem: "id_has_slash" });
    const create = createWishInput(NOW);
    const longTitle = thrown(() => parseInput(create, { title: "x".repeat(121), amount: 2000, currency: "CZK", deadline: "2027-01-01T00:00:00Z" }));
    assert.equal(longTitle.message, "Field 'title': must be at most 120 characters");
    const money = thrown(() => parseInput(create, { title: "Bike", amount: 20.5, currency: "CZK", deadline: "2027-01-01T00:00:00Z" }));
    const moneyDonate = thrown(() => parseInput(donateInput, { wishId: "w1", amount: 20.5, currency: "CZK", requestId: "req-00000001" }));
    assert.equal(money.message, moneyDonate.message, "a fractional amount reads the same in createWish and donate");
    assert.equal(money.params.problem, "not_integer");
  });

  it("every message a schema gives a check is a problem key of the catalogue (so it has a Czech text)", () => {
    const root = path.resolve(__dirname, "..", "..", "src");
    const offenders: string[] = [];
    for (const file of sourceFiles(root)) {
      const text = readFileSync(file, "utf8");
      if (!text.includes('from "zod"')) continue;
      const patterns = [/\.(?:regex|refine|min|max|int|positive|url|email)\([^)]*?"([^"]+)"\s*\)/g, /message: "([^"]+)"/g];
      for (const pattern of patterns) {
        for (const match of text.matchAll(pattern)) {
          const message = match[1] ?? "";
          if (!Object.hasOwn(CUSTOM_PROBLEMS, message)) offenders.push(`${path.relative(root, file)}: "${message}"`);
        }
      }
    }
    assert.deepEqual(offenders, []);
  });

  it("the callable wrapper answers a DomainError in the caller's locale, passes HttpsErrors, and hides anything else as internal", async () => {
    await assert.rejects(
      callable("probe", () => Promise.reject(new DomainError("wish_frozen"))),
      (error: unknown) => error instanceof HttpsError && error.code === "failed-precondition" && (error.details as { reason: string }).reason === "wish_frozen",
    );
    await assert.rejects(
      callable(
        "probe",
        () => {
          throw new DomainError("not_signed_up");
        },
        () => Promise.resolve("cs"),
      ),
      (error: unknown) => error instanceof HttpsError && error.code === "failed-precondition" && /^Nejprve dokončete registraci/.test(error.message),
    );
    const own = new HttpsError("unauthenticated", "App Check");
    await assert.rejects(callable("probe", () => Promise.reject(own)), (error: unknown) => error === own);
    await assert.rejects(
      callable("probe", () => Promise.reject(new Error("Stripe said: card 4242 declined"))),
      (error: unknown) =>
        error instanceof HttpsError && error.code === "internal" && (error.details as { reason: string }).reason === "internal" && !/Stripe|4242/.test(error.message),
    );
  });

  it("the caller's locale: Accept-Language by q-value, then the account's settings, then English", async () => {
    assert.equal(localeFromAcceptLanguage("cs-CZ,cs;q=0.9,en;q=0.8"), "cs");
    assert.equal(localeFromAcceptLanguage("de-DE,en;q=0.5,cs;q=0.7"), "cs");
    assert.equal(localeFromAcceptLanguage("en-GB"), "en");
    assert.equal(localeFromAcceptLanguage("de, fr;q=0.5"), undefined);
    assert.equal(localeFromAcceptLanguage("cs;q=0, en"), "en");
    const request = (header: string | undefined, uid?: string) =>
      ({ auth: uid ? { uid } : undefined, rawRequest: { headers: header ? { "accept-language": header } : {} } }) as unknown as Parameters<typeof callerLocale>[0];
    const settings = (uid: string) => Promise.resolve(uid === "czech" ? ("cs" as const) : undefined);
    assert.equal(await callerLocale(request("cs-CZ", "english"), settings)(), "cs");
    assert.equal(await callerLocale(request(undefined, "czech"), settings)(), "cs");
    assert.equal(await callerLocale(request("de", "czech"), settings)(), "cs", "a header in a language we do not speak falls through to settings");
    assert.equal(await callerLocale(request(undefined, "english"), settings)(), "en");
    assert.equal(await callerLocale(request(undefined), settings)(), "en");
    assert.equal(await callerLocale(request(undefined, "czech"), () => Promise.reject(new Error("down")))(), "en", "settings unreadable: English");
  });

  it("auth and App Check refusals carry reasons: sign_in_required, admin_only, app_check_missing, app_check_token_reused", () => {
    assert.equal(thrown(() => requireAuth({ auth: undefined })).reason, "sign_in_required");
    const user = { auth: { uid: "u1", token: { admin: false } } } as unknown as Parameters<typeof requireAdmin>[0];
    const refused = thrown(() => requireAdmin(user));
    assert.equal(refused.reason, "admin_only");
    assert.equal(refused.code, "permission-denied");
    const admin = { auth: { uid: "a1", token: { admin: true } } } as unknown as Parameters<typeof requireAdmin>[0];
    assert.equal(requireAdmin(admin), "a1");
    assert.equal(thrown(() => requireUnusedAppCheckToken({ app: undefined })).reason, "app_check_missing");
    const replayed = { app: { appId: "app", token: {}, alreadyConsumed: true } } as unknown as Parameters<typeof requireUnusedAppCheckToken>[0];
    assert.equal(thrown(() => requireUnusedAppCheckToken(replayed)).reason, "app_check_token_reused");
  });
});
