// docs/errors.md and docs/contract/errors.json, generated from the one error catalogue (src/lib/error-catalogue.ts) and
// the input problems (src/lib/input-problems.ts). `npm run contract` writes them; test/unit/contract.test.ts fails when
// the committed files are stale.
import { ERROR_CATALOGUE } from "../../src/lib/error-catalogue";
import type { DomainErrorReason } from "../../src/lib/error-catalogue";
import { DomainError } from "../../src/lib/errors";
import { INPUT_PROBLEMS, sayProblem } from "../../src/lib/input-problems";
import { LOCALES } from "../../src/lib/locale";

const reasons = Object.keys(ERROR_CATALOGUE) as DomainErrorReason[];
const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\n/g, " ");
/** Problem params that make every problem's text readable in the docs. */
const PROBLEM_EXAMPLE = { min: 3, max: 120, inclusive: true, expected: "string", allowed: ["keep", "remove"], currency: "CZK" };

/** The machine-readable catalogue: every reason with its code and params, and every `invalid_input` problem. */
export function errorsJson(): string {
  const catalogue = {
    title: "ElateMe callable errors",
    description: "Every details.reason a callable answers, with its code (functions/<code> in the SDKs) and the params details carries. Generated from src/lib/error-catalogue.ts; see docs/errors.md.",
    reasons: Object.fromEntries(
      reasons.map((reason) => {
        const entry = ERROR_CATALOGUE[reason];
        return [reason, { code: entry.code, params: "params" in entry ? entry.params : [], when: entry.when, app: entry.app }];
      }),
    ),
    inputProblems: INPUT_PROBLEMS,
    locales: LOCALES,
  };
  return `${JSON.stringify(catalogue, null, 2)}\n`;
}

/** docs/errors.md. */
export function errorsPage(): string {
  const example = new DomainError("amount_too_small", { field: "amount", params: { min: 1500, currency: "CZK" } });
  const lines = [
    "# Errors a callable answers (generated)",
    "",
    "Generated from the one catalogue, `functions/src/lib/error-catalogue.ts` (and `input-problems.ts`), by",
    "`npm run contract`; `npm test` fails when this page is stale. The same list, machine-readable:",
    "[contract/errors.json](contract/errors.json).",
    "",
    "## The shape of an error",
    "",
    "Every error of our code reaches the app as an `HttpsError` (`FunctionsError` in the SDKs) with:",
    "",
    "- `code`: the callable code (`functions/<code>` in the SDKs). One reason always travels with the same code.",
    "- `details.reason`: a stable snake_case reason from the table below. **Switch on this**, never on the message.",
    "- `details.field`: the request field the error is about, dotted (`audience.groupIds`, `ids.0`), when there is one:",
    "  mark that form field.",
    "- the reason's params in `details` (listed per reason): ids, amounts in minor units with their `currency`,",
    "  statuses, limits, times. Safe to show; never provider messages or secrets.",
    "- `message`: a sentence for people, in the caller's language (below). Show it as is, or build your own from the",
    "  reason and params; it may change wording at any time.",
    "",
    "One problem per error: a request with several bad fields is answered about the first one zod finds; fix it and the",
    "next call names the next. The same mistake reads the same in every callable, because the message is rendered from",
    "the reason, field and params alone.",
    "",
    "For example, `donate` with an amount under the minimum answers (in English):",
    "",
    "```json",
    JSON.stringify({ code: `functions/${example.code}`, message: example.message, details: { reason: example.reason, field: example.field, ...example.params } }, null, 2),
    "```",
    "",
    "## Language",
    "",
    `Messages exist in ${LOCALES.map((locale) => `\`${locale}\``).join(" and ")}. The server picks, in this order:`,
    "",
    "1. the request's `Accept-Language` header, by q-value, when it names one of these (browsers and iOS's URL loading",
    "   send it; on Android set it, or rely on 2);",
    "2. the account's `settings.locale` (`users/{uid}/private/account`, which the app writes when the user picks a",
    "   language);",
    "3. English.",
    "",
    "`details` never depend on the language.",
    "",
    "## Errors without `details.reason`",
    "",
    "- `functions/unauthenticated` with no details: the platform refused the call before our code ran, because it had",
    "  no valid App Check token (docs/client-setup.md \"App Check\"). A replay-protected callable answers a limited-use",
    "  token that was already used itself, with `app_check_token_reused`.",
    "- `functions/internal` with no details, `functions/unavailable`, `functions/deadline-exceeded`: the SDK could not",
    "  reach the function or read its answer (network, timeout). Retry money calls with the same `requestId`.",
    "",
    "## Reasons",
    "",
    "| reason | code | when | what the app should do | params in `details` |",
    "|---|---|---|---|---|",
  ];
  for (const reason of reasons) {
    const entry = ERROR_CATALOGUE[reason];
    const params = "params" in entry ? entry.params.map((param) => `\`${param}\``).join(", ") : "";
    lines.push(`| \`${reason}\` | \`${entry.code}\` | ${cell(entry.when)} | ${cell(entry.app)} | ${params} |`);
  }
  lines.push(
    "",
    "## `invalid_input` problems",
    "",
    "`details.problem` says what is wrong with `details.field`; some problems add `min`, `max`, `inclusive`, `expected`",
    "(a JSON type) or `allowed` (the accepted values), or, for `amount_out_of_range`, `min`, `max` and `currency`. The",
    "texts below are shown with example params.",
    "",
    `| problem | ${LOCALES.join(" | ")} |`,
    `|---|${LOCALES.map(() => "---").join("|")}|`,
  );
  for (const problem of INPUT_PROBLEMS) {
    lines.push(`| \`${problem}\` | ${LOCALES.map((locale) => cell(sayProblem(problem, { ...PROBLEM_EXAMPLE, min: problem === "amount_out_of_range" ? 1500 : 3, max: problem === "amount_out_of_range" ? 10_000_000 : 120 }, locale))).join(" | ")} |`);
  }
  lines.push(
    "",
    "## Adding an error",
    "",
    "Add the reason to `ERROR_CATALOGUE` with its code, when, what the app should do, its params and both messages",
    "(the compiler refuses an entry without Czech), throw `new DomainError(reason, { field, params })`, and run",
    "`npm run contract`. A schema check zod cannot describe names its problem by a key of `CUSTOM_PROBLEMS`",
    "(`.regex(/…/, \"request_id_format\")`); a unit test fails on any other message in a schema.",
    "",
  );
  return lines.join("\n");
}
