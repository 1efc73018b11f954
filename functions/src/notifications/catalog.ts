import { czechCount, formatMoney, formatNumber } from "../lib/locale";
import type { Locale } from "../lib/locale";

export { DEFAULT_LOCALE, formatMoney, LOCALES, pickLocale, toLocale } from "../lib/locale";
export type { Locale } from "../lib/locale";

/** Mute categories (account `settings.mutedCategories`); each is also an Android notification channel id. */
export const CATEGORIES = ["donations", "comments", "wishes", "friends", "payments"] as const;
export type Category = (typeof CATEGORIES)[number];

interface Template {
  title: string;
  body: string;
}

/**
 * The message catalogue: every notification the backend sends, in English and Czech (the locales of lib/locale.ts).
 * The apps ship the same keys in their own string files (Android `strings.xml`, iOS `Localizable.strings`), so a push
 * carries both the keys + args
 * (`title-loc-key`/`loc-key`, `title_loc_key`/`body_loc_key`) and the server-rendered title/body as a fallback.
 * Args are positional: `{0}`, `{1}`, ... here; `%1$s` (Android) / `%1$@` (iOS) in the apps, same order.
 */
const MESSAGES = {
  donation_received_named: {
    en: { title: "New donation", body: "{0} gave {1} to “{2}”" },
    cs: { title: "Nový příspěvek", body: "{0} přispěl(a) {1} na „{2}“" },
  },
  donation_received_anonymous: {
    en: { title: "New donation", body: "Someone gave {0} to “{1}”" },
    cs: { title: "Nový příspěvek", body: "Někdo přispěl {0} na „{1}“" },
  },
  // A wish's donation digest (docs/notifications.md, "Donation digests"): {0} "12 friends chipped in" (a count
  // phrase, plural for the locale), {1} the sum, {2} the title, {3} the first names "Ann, Bob, Carl and 9 more".
  donation_digest: {
    en: { title: "{0}", body: "{1} in total for “{2}”: {3}" },
    cs: { title: "{0}", body: "Celkem {1} na „{2}“: {3}" },
  },
  wish_funded_owner: {
    en: { title: "Your wish is fully funded!", body: "“{0}” reached its goal of {1}." },
    cs: { title: "Vaše přání je splněno!", body: "„{0}“ dosáhlo cíle {1}." },
  },
  wish_funded_supporter: {
    en: { title: "Wish fully funded", body: "“{0}” reached its goal of {1}. Thank you!" },
    cs: { title: "Přání je splněno", body: "„{0}“ dosáhlo cíle {1}. Děkujeme!" },
  },
  surprise_revealed: {
    en: { title: "A surprise for you!", body: "{0} and friends gathered {1} for “{2}”." },
    cs: { title: "Překvapení pro vás!", body: "{0} a přátelé pro vás vybrali {1} na „{2}“." },
  },
  wish_closed: {
    en: { title: "Wish closed", body: "“{0}” was closed. Your donation will be refunded." },
    cs: { title: "Přání bylo uzavřeno", body: "„{0}“ bylo uzavřeno. Váš příspěvek vám vrátíme." },
  },
  wish_expired: {
    en: { title: "Wish expired", body: "“{0}” did not reach its goal in time. Your donation will be refunded." },
    cs: { title: "Přání vypršelo", body: "„{0}“ nedosáhlo cíle včas. Váš příspěvek vám vrátíme." },
  },
  refund_processed: {
    en: { title: "Refund sent", body: "{0} for “{1}” is on its way back to you." },
    cs: { title: "Příspěvek vrácen", body: "{0} za „{1}“ je na cestě zpět k vám." },
  },
  refund_claimable: {
    en: { title: "Claim your refund", body: "{0} for “{1}” is waiting for you: open the donation to claim it in bitcoin." },
    cs: { title: "Vyzvedněte si vrácené peníze", body: "{0} za „{1}“ na vás čeká: otevřete příspěvek a vyzvedněte si je v bitcoinu." },
  },
  payout_sent: {
    en: { title: "Money on its way", body: "{0} from “{1}” was sent to your account." },
    cs: { title: "Peníze jsou na cestě", body: "{0} z „{1}“ jsme poslali na váš účet." },
  },
  comment_added: {
    en: { title: "New comment", body: "{0} commented on “{1}”" },
    cs: { title: "Nový komentář", body: "{0} okomentoval(a) „{1}“" },
  },
  friend_request_received: {
    en: { title: "Friend request", body: "{0} wants to be your friend" },
    cs: { title: "Žádost o přátelství", body: "{0} si vás chce přidat do přátel" },
  },
  friend_request_accepted: {
    en: { title: "Friend request accepted", body: "{0} accepted your friend request" },
    cs: { title: "Žádost přijata", body: "{0} přijal(a) vaši žádost o přátelství" },
  },
  friend_joined: {
    en: { title: "Your friend is here", body: "{0} joined ElateMe" },
    cs: { title: "Váš přítel je tu", body: "{0} se přidal(a) k ElateMe" },
  },
} as const satisfies Record<string, Record<Locale, Template>>;

export type MessageKey = keyof typeof MESSAGES;
export const MESSAGE_KEYS = Object.keys(MESSAGES) as MessageKey[];

/**
 * A message argument: text is used as is; money is formatted for the reader's locale; `people` is "12 friends chipped
 * in" and `names` "Ann, Bob and 3 more" (`more`: people not named in the list), each with the locale's plural forms.
 */
export type MessageArg = { text: string } | { amount: number; currency: string } | { people: number } | { names: readonly string[]; more: number };

function peoplePhrase(count: number, locale: Locale): string {
  if (locale === "cs") return czechCount(count, "přítel přispěl", "přátelé přispěli", "přátel přispělo");
  return `${formatNumber(count, "en")} ${count === 1 ? "friend" : "friends"} chipped in`;
}

function namesPhrase(names: readonly string[], more: number, locale: Locale): string {
  const and = locale === "cs" ? "a" : "and";
  if (names.length === 0) return locale === "cs" ? "všichni anonymně" : "all anonymous";
  const tail = more > 0 ? [locale === "cs" ? czechCount(more, "další", "další", "dalších") : `${formatNumber(more, "en")} more`] : [];
  const parts = [...names, ...tail];
  return parts.length === 1 ? (parts[0] ?? "") : `${parts.slice(0, -1).join(", ")} ${and} ${parts[parts.length - 1] ?? ""}`;
}

function renderArg(arg: MessageArg, locale: Locale): string {
  if ("text" in arg) return arg.text;
  if ("people" in arg) return peoplePhrase(arg.people, locale);
  if ("names" in arg) return namesPhrase(arg.names, arg.more, locale);
  return formatMoney(arg.amount, arg.currency, locale);
}

/** The localization keys the apps look up: `notif_<key>_title` / `notif_<key>_body`. */
export function locKeys(key: MessageKey): { titleKey: string; bodyKey: string } {
  return { titleKey: `notif_${key}_title`, bodyKey: `notif_${key}_body` };
}

export function renderArgs(args: readonly MessageArg[], locale: Locale): string[] {
  return args.map((arg) => renderArg(arg, locale));
}

export interface Rendered {
  titleKey: string;
  bodyKey: string;
  /** The args as strings for this locale (money formatted): `loc-args` / `body_loc_args`. */
  args: string[];
  title: string;
  body: string;
  locale: Locale;
}

export function render(key: MessageKey, args: readonly MessageArg[], locale: Locale): Rendered {
  const template: Template = MESSAGES[key][locale];
  const strings = renderArgs(args, locale);
  const fill = (text: string) => text.replace(/\{(\d+)\}/g, (whole, index: string) => strings[Number(index)] ?? whole);
  return { ...locKeys(key), args: strings, title: fill(template.title), body: fill(template.body), locale };
}

/** The raw templates, for the docs and the catalogue test. */
export function template(key: MessageKey, locale: Locale): Template {
  return MESSAGES[key][locale];
}
