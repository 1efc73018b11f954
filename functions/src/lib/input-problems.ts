import type { z } from "zod";
import { czechCount, formatMoney, formatNumber } from "./locale";
import type { Locale } from "./locale";

/**
 * What is wrong with one field of a request (`invalid_input`), as `details.problem` with its own params, and how it
 * reads in each locale. parseInput reports the first problem zod finds, one per error.
 *
 * Problems come from two places. zod's own checks (types, lengths, bounds, enums, formats, unknown keys) are read from
 * the issue, so a schema says `.max(120)` and nothing more. A check zod cannot describe (a regex, a refinement) names
 * its problem by key as the check's message, e.g. `.regex(/…/, "request_id_format")`; the keys are
 * {@link CUSTOM_PROBLEMS}, and a unit test fails on a schema message that is not one of them.
 */
export type ProblemParams = Record<string, string | number | boolean | string[]>;
export interface InputProblem {
  /** The field's path, dotted ("audience.groupIds", "ids.0"); "(request)" for the request as a whole. */
  field: string;
  problem: string;
  params: ProblemParams;
}

type Say = (params: ProblemParams, locale: Locale) => string;
const n = (value: unknown, locale: Locale) => (typeof value === "number" ? formatNumber(value, locale) : String(value));
const list = (value: unknown) => (Array.isArray(value) ? value.join(", ") : String(value));

const money = (p: ProblemParams, key: string, locale: Locale) => formatMoney(Number(p[key]), String(p.currency), locale);

/**
 * The problems a schema names by key (the message of a regex or refinement), in English and Czech. A refinement may
 * hand params with its issue (`params: { min, max, currency }`); they travel in `details` too.
 */
export const CUSTOM_PROBLEMS = {
  id_has_slash: { en: "must be an id without '/'", cs: "musí být id bez znaku '/'" },
  id_is_dots: { en: "must be an id, not '.' or '..'", cs: "musí být id, ne '.' ani '..'" },
  id_reserved: {
    en: "must be an id that does not start and end with '__' (reserved by Firestore)",
    cs: "musí být id, které nezačíná a nekončí '__' (vyhrazeno Firestore)",
  },
  id_too_many_bytes: { en: "must be an id of at most 1500 bytes", cs: "musí být id o nejvýše 1500 bajtech" },
  request_id_format: { en: "must be 8-64 letters, digits, '-' or '_'", cs: "musí mít 8–64 písmen, číslic, '-' nebo '_'" },
  device_id_format: { en: "must be 8-128 characters of A-Z, a-z, 0-9, '_' or '-'", cs: "musí mít 8–128 znaků z A-Z, a-z, 0-9, '_' nebo '-'" },
  language_tag: { en: "must be a language tag such as 'en' or 'cs-CZ'", cs: "musí být kód jazyka, např. 'en' nebo 'cs-CZ'" },
  https_url: { en: "must be an https URL", cs: "musí být adresa https" },
  amount_out_of_range: {
    en: (p, l) => `must be between ${money(p, "min", l)} and ${money(p, "max", l)}`,
    cs: (p, l) => `musí být mezi ${money(p, "min", l)} a ${money(p, "max", l)}`,
  },
  deadline_in_past: { en: "must be in the future", cs: "musí být v budoucnosti" },
  deadline_too_far: { en: "must be at most one year ahead", cs: "může být nejvýše rok dopředu" },
  name_or_members_required: { en: "give a new name or memberIds", cs: "uveďte nový název nebo memberIds" },
  ids_or_all_required: { en: "give exactly one of 'ids' or 'all'", cs: "uveďte právě jedno z 'ids' a 'all'" },
  uid_or_email_required: { en: "name the user by exactly one of uid or email", cs: "uveďte uživatele právě jedním z uid a email" },
  groups_required: { en: "must name at least one group when kind is groups", cs: "musí uvést aspoň jednu skupinu, když je kind groups" },
  people_required: { en: "must name at least one friend when kind is people", cs: "musí uvést aspoň jednoho přítele, když je kind people" },
  groups_only_for_groups: { en: "must be empty unless kind is groups", cs: "musí být prázdné, pokud kind není groups" },
  people_only_for_people: { en: "must be empty unless kind is people", cs: "musí být prázdné, pokud kind není people" },
} as const satisfies Record<string, Record<Locale, string | Say>>;
export type CustomProblem = keyof typeof CUSTOM_PROBLEMS;

const TYPE_NAMES: Record<string, Record<Locale, string>> = {
  string: { en: "a string", cs: "text (řetězec)" },
  number: { en: "a number", cs: "číslo" },
  boolean: { en: "true or false", cs: "true nebo false" },
  array: { en: "a list", cs: "seznam" },
  object: { en: "an object", cs: "objekt" },
};

/** The problems read from zod's own issues, in English and Czech. */
const BUILT_IN_PROBLEMS = {
  missing: { en: () => "is missing", cs: () => "chybí" },
  wrong_type: {
    en: (p) => `must be ${TYPE_NAMES[String(p.expected)]?.en ?? String(p.expected)}`,
    cs: (p) => `musí být ${TYPE_NAMES[String(p.expected)]?.cs ?? String(p.expected)}`,
  },
  not_integer: { en: () => "must be a whole number (amounts are in minor units)", cs: () => "musí být celé číslo (částky jsou v haléřích či centech)" },
  empty: { en: () => "must not be empty", cs: () => "nesmí být prázdné" },
  too_short: { en: (p, l) => `must be at least ${n(p.min, l)} characters`, cs: (p) => `musí mít alespoň ${czechCount(Number(p.min), "znak", "znaky", "znaků")}` },
  too_long: { en: (p, l) => `must be at most ${n(p.max, l)} characters`, cs: (p) => `může mít nejvýše ${czechCount(Number(p.max), "znak", "znaky", "znaků")}` },
  too_few: { en: (p, l) => `must have at least ${n(p.min, l)} items`, cs: (p) => `musí mít alespoň ${czechCount(Number(p.min), "položku", "položky", "položek")}` },
  too_many: { en: (p, l) => `must have at most ${n(p.max, l)} items`, cs: (p) => `může mít nejvýše ${czechCount(Number(p.max), "položku", "položky", "položek")}` },
  too_small: {
    en: (p, l) => (p.inclusive ? `must be at least ${n(p.min, l)}` : `must be greater than ${n(p.min, l)}`),
    cs: (p, l) => (p.inclusive ? `musí být alespoň ${n(p.min, l)}` : `musí být větší než ${n(p.min, l)}`),
  },
  too_large: {
    en: (p, l) => (p.inclusive ? `must be at most ${n(p.max, l)}` : `must be less than ${n(p.max, l)}`),
    cs: (p, l) => (p.inclusive ? `může být nejvýše ${n(p.max, l)}` : `musí být menší než ${n(p.max, l)}`),
  },
  not_allowed: { en: (p) => `must be one of ${list(p.allowed)}`, cs: (p) => `musí být jedno z: ${list(p.allowed)}` },
  unknown_field: { en: () => "is not a field of this request", cs: () => "není pole tohoto požadavku" },
  not_email: { en: () => "must be an email address", cs: () => "musí být e-mailová adresa" },
  not_datetime: {
    en: () => "must be an ISO-8601 date-time, e.g. 2027-03-01T18:00:00Z",
    cs: () => "musí být datum a čas podle ISO 8601, např. 2027-03-01T18:00:00Z",
  },
  bad_format: { en: () => "has the wrong format", cs: () => "má nesprávný formát" },
  invalid: { en: () => "is not valid", cs: () => "není platné" },
} as const satisfies Record<string, Record<Locale, Say>>;
export type BuiltInProblem = keyof typeof BUILT_IN_PROBLEMS;

/** Every `details.problem` an `invalid_input` error may carry (docs/errors.md lists them). */
export const INPUT_PROBLEMS = [...Object.keys(BUILT_IN_PROBLEMS), ...Object.keys(CUSTOM_PROBLEMS)] as (BuiltInProblem | CustomProblem)[];

const isCustomProblem = (key: string): key is CustomProblem => Object.hasOwn(CUSTOM_PROBLEMS, key);

/** The value at `path` in the raw request, to tell a missing field from a wrong one. */
function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let value = data;
  for (const key of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

const fieldName = (path: readonly PropertyKey[]) => (path.length ? path.map(String).join(".") : "(request)");

/** One zod issue as an {@link InputProblem}: the field, the problem's key and what the reader needs to fix it. */
export function describeIssue(issue: z.core.$ZodIssue, data: unknown): InputProblem {
  const field = fieldName(issue.path);
  if (isCustomProblem(issue.message)) return { field, problem: issue.message, params: issue.code === "custom" ? problemParams(issue.params) : {} };
  switch (issue.code) {
    case "invalid_type":
      if (issue.path.length && valueAt(data, issue.path) === undefined) return { field, problem: "missing", params: {} };
      if (issue.expected === "int") return { field, problem: "not_integer", params: {} };
      return { field, problem: "wrong_type", params: { expected: issue.expected } };
    case "too_small": {
      const min = Number(issue.minimum);
      if (issue.origin === "string") return min <= 1 ? { field, problem: "empty", params: {} } : { field, problem: "too_short", params: { min } };
      if (issue.origin === "array") return { field, problem: "too_few", params: { min } };
      return { field, problem: "too_small", params: { min, inclusive: issue.inclusive ?? true } };
    }
    case "too_big": {
      const max = Number(issue.maximum);
      if (issue.origin === "string") return { field, problem: "too_long", params: { max } };
      if (issue.origin === "array") return { field, problem: "too_many", params: { max } };
      return { field, problem: "too_large", params: { max, inclusive: issue.inclusive ?? true } };
    }
    case "invalid_value":
      return { field, problem: "not_allowed", params: { allowed: issue.values.map(String) } };
    case "unrecognized_keys":
      return { field: fieldName([...issue.path, issue.keys[0] ?? ""]), problem: "unknown_field", params: {} };
    case "invalid_format":
      if (issue.format === "email") return { field, problem: "not_email", params: {} };
      if (issue.format === "datetime") return { field, problem: "not_datetime", params: {} };
      if (issue.format === "url") return { field, problem: "https_url", params: {} };
      return { field, problem: "bad_format", params: {} };
    default:
      return { field, problem: "invalid", params: {} };
  }
}

/** The params a refinement handed with its issue, kept when they are plain values. */
function problemParams(params: Record<string, unknown> | undefined): ProblemParams {
  const kept: ProblemParams = {};
  for (const [key, value] of Object.entries(params ?? {})) {
    if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") kept[key] = value;
  }
  return kept;
}

/** "must be at most 120 characters" / "může mít nejvýše 120 znaků": the problem without its field. */
export function sayProblem(problem: string, params: ProblemParams, locale: Locale): string {
  if (isCustomProblem(problem)) {
    const text: string | Say = CUSTOM_PROBLEMS[problem][locale];
    return typeof text === "string" ? text : text(params, locale);
  }
  const builtIn = BUILT_IN_PROBLEMS[problem as BuiltInProblem] as Record<Locale, Say> | undefined;
  return (builtIn ?? BUILT_IN_PROBLEMS.invalid)[locale](params, locale);
}
