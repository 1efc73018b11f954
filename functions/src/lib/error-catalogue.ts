import { RATE_LIMITS } from "../config";
import { sayProblem } from "./input-problems";
import type { ProblemParams } from "./input-problems";
import { czechCount, formatMoney, formatNumber } from "./locale";
import type { Locale } from "./locale";

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
  | "unavailable"
  | "internal";

/** What an error says beyond its reason: ids, amounts, statuses, limits; safe to show, never secrets. */
export type DomainErrorParams = Record<string, string | number | boolean | string[] | null>;

/** What a message is rendered from: the error's field and params, in one locale. */
interface Facts {
  field: string;
  p: DomainErrorParams;
  locale: Locale;
}
type Say = (facts: Facts) => string;

interface Entry {
  code: DomainErrorCode;
  /** When the server answers this (docs/errors.md). */
  when: string;
  /** What the app should do (docs/errors.md). */
  app: string;
  /** The params `details` carries besides `reason` and `field`. */
  params?: readonly string[];
  en: Say;
  cs: Say;
}

const str = (value: DomainErrorParams[string] | undefined) => (value === null || value === undefined ? "" : Array.isArray(value) ? value.join(", ") : String(value));
const money = ({ p, locale }: Facts, amount: string) => formatMoney(Number(p[amount]), str(p.currency), locale);
const num = ({ p, locale }: Facts, key: string) => formatNumber(Number(p[key]), locale);

const enCount = (count: number, noun: string) => `${count} ${noun}${count === 1 ? "" : "s"}`;

const CS_ACTIONS: Record<keyof typeof RATE_LIMITS, string> = {
  friendRequests: "žádostí o přátelství",
  comments: "komentářů",
  wishes: "nových přání",
  donations: "pokusů o příspěvek",
  reports: "nahlášení",
};

/** "hour", "10 minutes", "day": a rate-limit window as people say it (firestore.rules comments quote it too). */
export function describeWindow(seconds: number): string {
  if (seconds % 86_400 === 0) return seconds === 86_400 ? "day" : enCount(seconds / 86_400, "day");
  if (seconds % 3600 === 0) return seconds === 3600 ? "hour" : enCount(seconds / 3600, "hour");
  if (seconds % 60 === 0) return seconds === 60 ? "minute" : enCount(seconds / 60, "minute");
  return enCount(seconds, "second");
}

function csWindow(seconds: number): string {
  if (seconds % 86_400 === 0) return seconds === 86_400 ? "den" : czechCount(seconds / 86_400, "den", "dny", "dní");
  if (seconds % 3600 === 0) return seconds === 3600 ? "hodinu" : czechCount(seconds / 3600, "hodinu", "hodiny", "hodin");
  if (seconds % 60 === 0) return seconds === 60 ? "minutu" : czechCount(seconds / 60, "minutu", "minuty", "minut");
  return czechCount(seconds, "sekundu", "sekundy", "sekund");
}

const WISH_STATUS_CS: Record<string, string> = { open: "otevřené", funded: "splněné", closed: "uzavřené", expired: "vypršelé", paid_out: "vyplacené" };
const PAYMENT_STATUS_CS: Record<string, string> = {
  pending: "čeká na platbu",
  processing: "se zpracovává",
  succeeded: "zaplacený",
  failed: "neúspěšný",
  canceled: "zrušený",
  requires_payment_method: "čeká na platbu",
  requested: "zažádaný",
  failed_permanently: "trvale neúspěšný",
  paid: "vyplacený",
  in_transit: "na cestě",
  gone: "neexistuje",
};
/** Why someone is outside a wish's circle (`audience_user_not_in_circle`'s `why`). */
const NOT_IN_CIRCLE: Record<Locale, Record<string, string>> = {
  en: {
    not_friend: "is not your friend",
    not_mutual: "is not a friend of both you and the recipient",
    late_friend: "became a friend of you or of the recipient after the surprise was created; only earlier friendships count",
  },
  cs: {
    not_friend: "není váš přítel",
    not_mutual: "není přítelem vás i obdarovaného",
    late_friend: "se stal(a) přítelem vás nebo obdarovaného až po založení překvapení; počítají se jen dřívější přátelství",
  },
};
const csStatus = (table: Record<string, string>, status: DomainErrorParams[string] | undefined) => table[str(status)] ?? str(status);

/**
 * The one catalogue of every error a callable answers: its stable snake_case `reason` (the app switches on
 * `details.reason`), the callable code it always travels with, when it happens, what the app should do, the params in
 * `details`, and its message in English and Czech. Rename a reason only together with the apps. The same mistake reads
 * the same in every callable, because the message is rendered from the reason, field and params alone.
 * docs/errors.md is generated from this table (`npm run contract`; `npm test` fails when it is stale).
 */
export const ERROR_CATALOGUE = {
  // input and identity
  invalid_input: {
    code: "invalid-argument",
    when: "A field of the request is missing, of the wrong type, out of bounds or badly formatted. One problem per error (the first found); `details.problem` says which (see below).",
    app: "A bug in the app, or a form field to mark: show the message next to `details.field`.",
    params: ["problem", "min", "max", "inclusive", "expected", "allowed"],
    en: ({ field, p, locale }) => `Field '${field}': ${sayProblem(str(p.problem), p as ProblemParams, locale)}`,
    cs: ({ field, p, locale }) => `Pole '${field}': ${sayProblem(str(p.problem), p as ProblemParams, locale)}`,
  },
  sign_in_required: {
    code: "unauthenticated",
    when: "The call carries no Firebase Auth ID token.",
    app: "Sign the user in, then call again.",
    en: () => "Sign in first.",
    cs: () => "Nejprve se přihlaste.",
  },
  app_check_missing: {
    code: "unauthenticated",
    when: "Defensive: a replay-protected callable reached our code without an App Check token (the platform refuses such calls first, without `details`).",
    app: "Set up App Check (docs/client-setup.md); in the emulator, use a debug token.",
    en: () => "This app could not be verified (App Check). Update the app and try again.",
    cs: () => "Aplikaci se nepodařilo ověřit (App Check). Aktualizujte ji a zkuste to znovu.",
  },
  app_check_token_reused: {
    code: "unauthenticated",
    when: "A replay-protected callable (the money and admin callables listed in docs/client-setup.md \"App Check\") arrives with a limited-use App Check token that was already used.",
    app: "Get a fresh limited-use token and send the call again (the same `requestId` is safe).",
    en: () => "This request's App Check token was already used. Send the call again with a fresh limited-use token.",
    cs: () => "Token App Check tohoto požadavku už byl použit. Pošlete požadavek znovu s novým jednorázovým tokenem.",
  },
  admin_only: {
    code: "permission-denied",
    when: "An ops callable is called without the `admin` custom claim.",
    app: "Not for the apps; ops tools only.",
    en: () => "Admins only.",
    cs: () => "Jen pro administrátory.",
  },
  not_signed_up: {
    code: "failed-precondition",
    when: "The account has no ElateMe profile (`users/{uid}`): the sign-up never completed.",
    app: "Call `syncFacebookProfile` (sign in with Facebook again), then retry.",
    en: () => "Finish signing up first: this account has no ElateMe profile yet. Sign in with Facebook again (the app then calls syncFacebookProfile).",
    cs: () => "Nejprve dokončete registraci: tento účet ještě nemá profil ElateMe. Přihlaste se znovu přes Facebook.",
  },
  session_signed_out: {
    code: "unauthenticated",
    when: "The ID token was issued before the account's sessions were revoked (sign-out everywhere, account deletion).",
    app: "Sign out locally and sign in again.",
    en: () => "This session was signed out. Sign in again.",
    cs: () => "Tato relace byla odhlášena. Přihlaste se znovu.",
  },
  rate_limited: {
    code: "resource-exhausted",
    when: "The user is over a rate limit (docs/security.md \"Rate limits\").",
    app: "Tell the user when to try again (`retryAt`, `retryAfterSeconds`); do not retry automatically before then.",
    params: ["action", "limit", "windowSeconds", "retryAt", "retryAfterSeconds"],
    en: ({ p }) => {
      const action = str(p.action) as keyof typeof RATE_LIMITS;
      const minutes = Math.ceil(Number(p.retryAfterSeconds) / 60);
      return `Too many ${RATE_LIMITS[action]?.noun ?? "requests"}: at most ${str(p.limit)} per ${describeWindow(Number(p.windowSeconds))}. Try again after ${str(p.retryAt)} (in about ${enCount(minutes, "minute")}).`;
    },
    cs: ({ p }) => {
      const action = str(p.action) as keyof typeof RATE_LIMITS;
      const minutes = Math.ceil(Number(p.retryAfterSeconds) / 60);
      return `Příliš mnoho ${CS_ACTIONS[action] ?? "požadavků"}: nejvýše ${str(p.limit)} za ${csWindow(Number(p.windowSeconds))}. Zkuste to znovu po ${str(p.retryAt)} (asi za ${czechCount(minutes, "minutu", "minuty", "minut")}).`;
    },
  },
  concurrent_requests: {
    code: "aborted",
    when: "Many calls of the same account raced for its rate-limit window and this one gave up.",
    app: "Retry once after a short pause.",
    en: () => "Too many requests from this account at the same moment. Try again.",
    cs: () => "Z tohoto účtu přichází příliš mnoho požadavků najednou. Zkuste to znovu.",
  },
  request_id_reused: {
    code: "already-exists",
    when: "`donate` got a `requestId` that was used for a different donation (another wish, amount, currency or method).",
    app: "Generate a new `requestId` for each new donation; reuse one only to retry the same donation.",
    en: ({ field }) => `Field '${field}': already used for a different donation; use a new requestId for a new donation.`,
    cs: ({ field }) => `Pole '${field}': už bylo použito pro jiný příspěvek; pro nový příspěvek použijte nové requestId.`,
  },
  provider_unavailable: {
    code: "unavailable",
    when: "Stripe could not be reached or answered with an error; nothing was changed.",
    app: "Retry with backoff (for `donate`, with the same `requestId`).",
    en: () => "The payment service is unavailable. Please try again in a moment.",
    cs: () => "Platební služba je nedostupná. Zkuste to prosím za chvíli znovu.",
  },
  internal: {
    code: "internal",
    when: "An unexpected failure on our side (logged with its stack; no provider or database text reaches the app).",
    app: "Retry later; if it persists, report it with the time of the call.",
    en: () => "Something went wrong on our side. Please try again.",
    cs: () => "Na naší straně se něco pokazilo. Zkuste to prosím znovu.",
  },
  // social
  facebook_not_linked: {
    code: "failed-precondition",
    when: "A Facebook call for an account that did not sign in with Facebook.",
    app: "Sign in with Facebook first.",
    en: () => "This account is not signed in with Facebook.",
    cs: () => "Tento účet není přihlášen přes Facebook.",
  },
  facebook_token_invalid: {
    code: "unauthenticated",
    when: "Facebook refused the access token (invalid, expired or revoked).",
    app: "Sign in with Facebook again and send the new token.",
    en: () => "The Facebook access token is invalid or expired. Sign in with Facebook again.",
    cs: () => "Přístupový token Facebooku je neplatný nebo vypršel. Přihlaste se přes Facebook znovu.",
  },
  facebook_token_wrong_app: {
    code: "unauthenticated",
    when: "The access token was issued to another Facebook app.",
    app: "A bug in the app's Facebook configuration.",
    en: () => "The Facebook access token was not issued to ElateMe.",
    cs: () => "Přístupový token Facebooku nebyl vydán pro ElateMe.",
  },
  facebook_token_wrong_user: {
    code: "unauthenticated",
    when: "The access token belongs to another Facebook account than the one this Firebase account signed in with.",
    app: "Sign out and sign in with the right Facebook account.",
    en: () => "The Facebook access token belongs to a different Facebook account than this sign-in.",
    cs: () => "Přístupový token Facebooku patří jinému účtu na Facebooku, než se kterým jste přihlášeni.",
  },
  facebook_unavailable: {
    code: "unavailable",
    when: "Facebook could not be reached to check the token.",
    app: "Retry with backoff.",
    en: () => "Facebook could not be reached to check the sign-in. Try again shortly.",
    cs: () => "Facebook je teď nedostupný, přihlášení nelze ověřit. Zkuste to za chvíli.",
  },
  user_not_found: {
    code: "not-found",
    when: "The named user does not exist.",
    app: "Refresh the list the user was picked from.",
    params: ["user"],
    en: ({ field, p }) => (p.user ? `No user '${str(p.user)}'.` : `Field '${field}': no such user.`),
    cs: ({ field, p }) => (p.user ? `Uživatel '${str(p.user)}' neexistuje.` : `Pole '${field}': takový uživatel neexistuje.`),
  },
  friend_request_to_self: {
    code: "invalid-argument",
    when: "A friend request to oneself.",
    app: "Do not offer it.",
    en: ({ field }) => `Field '${field}': you cannot send a friend request to yourself.`,
    cs: ({ field }) => `Pole '${field}': sami sobě žádost o přátelství poslat nemůžete.`,
  },
  already_friends: {
    code: "failed-precondition",
    when: "A friend request to someone who is already a friend.",
    app: "Refresh the friend list.",
    en: () => "You are already friends.",
    cs: () => "Už jste přátelé.",
  },
  friend_request_exists: {
    code: "failed-precondition",
    when: "A second friend request to the same person.",
    app: "Show the request as pending.",
    en: () => "You have already sent this person a friend request.",
    cs: () => "Tomuto člověku jste už žádost o přátelství poslali.",
  },
  friend_request_reverse_exists: {
    code: "failed-precondition",
    when: "A friend request to someone who has already sent one to the caller.",
    app: "Offer to accept their request instead.",
    en: () => "This person has already sent you a friend request: accept it instead.",
    cs: () => "Tento člověk vám už žádost o přátelství poslal: přijměte ji.",
  },
  friend_request_not_found: {
    code: "not-found",
    when: "Accepting, declining or canceling a friend request that is not pending (any more).",
    app: "Refresh the requests list.",
    en: () => "There is no such pending friend request.",
    cs: () => "Taková čekající žádost o přátelství neexistuje.",
  },
  unfriend_self: {
    code: "invalid-argument",
    when: "Unfriending oneself.",
    app: "Do not offer it.",
    en: ({ field }) => `Field '${field}': you cannot unfriend yourself.`,
    cs: ({ field }) => `Pole '${field}': sami sebe z přátel odebrat nemůžete.`,
  },
  not_friends: {
    code: "not-found",
    when: "Unfriending someone who is not a friend.",
    app: "Refresh the friend list.",
    en: () => "You are not friends with this person.",
    cs: () => "S tímto člověkem nejste přátelé.",
  },
  group_not_found: {
    code: "not-found",
    when: "The group does not exist (or is not the caller's).",
    app: "Refresh the groups list.",
    en: ({ field }) => `Field '${field}': no such group.`,
    cs: ({ field }) => `Pole '${field}': taková skupina neexistuje.`,
  },
  group_limit_reached: {
    code: "failed-precondition",
    when: "Creating a group beyond the per-user maximum.",
    app: "Tell the user to delete a group first.",
    params: ["max"],
    en: (facts) => `You can have at most ${num(facts, "max")} groups.`,
    cs: (facts) => `Můžete mít nejvýše ${num(facts, "max")} skupin.`,
  },
  group_member_not_friend: {
    code: "failed-precondition",
    when: "A group member who is not the caller's friend.",
    app: "Refresh the friend list; remove `uids` from the selection.",
    params: ["uids"],
    en: ({ field, p }) => `Field '${field}': not your friend(s): ${Array.isArray(p.uids) ? p.uids.join(", ") : ""}.`,
    cs: ({ field, p }) => `Pole '${field}': nejsou vaši přátelé: ${Array.isArray(p.uids) ? p.uids.join(", ") : ""}.`,
  },
  // wishes, comments, moderation
  wish_not_visible: {
    code: "permission-denied",
    when: "The wish does not exist or the caller may not see it; the two are answered alike, so a hidden surprise cannot be detected by its id.",
    app: "Leave the wish's screen; it is gone for this user.",
    en: () => "No such wish, or you cannot see it.",
    cs: () => "Takové přání neexistuje, nebo ho nevidíte.",
  },
  wish_not_found: {
    code: "not-found",
    when: "An ops callable names a wish that does not exist.",
    app: "Not for the apps; ops tools only.",
    en: () => "No such wish.",
    cs: () => "Takové přání neexistuje.",
  },
  not_organizer: {
    code: "permission-denied",
    when: "Someone other than the wish's organizer tries to close, edit or delete it.",
    app: "Do not offer the action to others.",
    en: () => "Only the wish's organizer can do this.",
    cs: () => "Tohle může udělat jen organizátor přání.",
  },
  wish_not_open: {
    code: "failed-precondition",
    when: "The wish is no longer open (funded, closed, expired, paid out) for a donation, close or audience change.",
    app: "Refresh the wish and show its status.",
    params: ["status"],
    en: ({ p }) => `This wish is ${str(p.status).replace("_", " ")}, no longer open.`,
    cs: ({ p }) => `Toto přání je ${csStatus(WISH_STATUS_CS, p.status)}, už není otevřené.`,
  },
  wish_has_donations: {
    code: "failed-precondition",
    when: "Deleting a wish that has donations.",
    app: "Offer to close it instead (donors are refunded).",
    en: () => "Somebody has already donated to this wish, so it cannot be deleted; close it instead and the donors are refunded.",
    cs: () => "Na toto přání už někdo přispěl, proto ho nelze smazat; uzavřete ho a dárcům se peníze vrátí.",
  },
  surprise_for_self: {
    code: "invalid-argument",
    when: "A surprise wish whose recipient is its organizer.",
    app: "Leave `recipientId` out for one's own wish.",
    en: ({ field }) => `Field '${field}': a surprise is for someone else; leave it out for your own wish.`,
    cs: ({ field }) => `Pole '${field}': překvapení je pro někoho jiného; u vlastního přání ho vynechte.`,
  },
  recipient_not_friend: {
    code: "invalid-argument",
    when: "A surprise wish for someone who is not the organizer's friend.",
    app: "Offer only friends as recipients.",
    en: ({ field }) => `Field '${field}': must be one of your friends.`,
    cs: ({ field }) => `Pole '${field}': musí to být někdo z vašich přátel.`,
  },
  audience_group_not_found: {
    code: "invalid-argument",
    when: "An audience names a group that does not exist.",
    app: "Refresh the groups list.",
    params: ["groupId"],
    en: ({ field, p }) => `Field '${field}': group ${str(p.groupId)} does not exist.`,
    cs: ({ field, p }) => `Pole '${field}': skupina ${str(p.groupId)} neexistuje.`,
  },
  audience_user_not_in_circle: {
    code: "invalid-argument",
    when: "An audience names someone outside the wish's circle: not a friend, or for a surprise not a friend of both organizer and recipient, or a friend only since the surprise was created (`why`: `not_friend`, `not_mutual`, `late_friend`).",
    app: "Offer only the people the circle allows.",
    params: ["userId", "why"],
    en: ({ field, p }) => `Field '${field}': ${str(p.userId)} ${NOT_IN_CIRCLE.en[str(p.why)] ?? NOT_IN_CIRCLE.en.not_friend}.`,
    cs: ({ field, p }) => `Pole '${field}': ${str(p.userId)} ${NOT_IN_CIRCLE.cs[str(p.why)] ?? NOT_IN_CIRCLE.cs.not_friend}.`,
  },
  comment_not_found: {
    code: "not-found",
    when: "A report names a comment that is not on the wish.",
    app: "Refresh the comments.",
    en: ({ field }) => `Field '${field}': no such comment on this wish.`,
    cs: ({ field }) => `Pole '${field}': takový komentář u tohoto přání není.`,
  },
  report_own_content: {
    code: "failed-precondition",
    when: "Reporting one's own wish or comment.",
    app: "Do not offer it.",
    params: ["content"],
    en: ({ p }) => `You cannot report your own ${p.content === "comment" ? "comment" : "wish"}.`,
    cs: ({ p }) => `Vlastní ${p.content === "comment" ? "komentář" : "přání"} nahlásit nemůžete.`,
  },
  moderation_case_not_found: {
    code: "not-found",
    when: "An ops callable names a moderation case that does not exist.",
    app: "Not for the apps; ops tools only.",
    en: ({ field }) => `Field '${field}': no such moderation case.`,
    cs: ({ field }) => `Pole '${field}': takový moderační případ neexistuje.`,
  },
  // donations
  donate_own_wish: {
    code: "permission-denied",
    when: "Donating to one's own wish.",
    app: "Do not offer it.",
    en: () => "You cannot donate to your own wish.",
    cs: () => "Na vlastní přání přispět nemůžete.",
  },
  wish_frozen: {
    code: "failed-precondition",
    when: "Ops put the wish on hold (`frozenAt`).",
    app: "Show that the wish is on hold; try later.",
    en: () => "This wish is on hold and does not accept donations right now.",
    cs: () => "Toto přání je pozastavené a teď nepřijímá příspěvky.",
  },
  wish_deadline_passed: {
    code: "failed-precondition",
    when: "Donating after the wish's deadline (before the expiry task has run).",
    app: "Refresh the wish.",
    en: () => "This wish's deadline has passed.",
    cs: () => "Termín tohoto přání už uplynul.",
  },
  currency_mismatch: {
    code: "invalid-argument",
    when: "A donation in another currency than the wish's.",
    app: "Donate in `currency`.",
    params: ["currency"],
    en: ({ field, p }) => `Field '${field}': must be ${str(p.currency)}, the wish's currency.`,
    cs: ({ field, p }) => `Pole '${field}': musí být ${str(p.currency)}, měna přání.`,
  },
  amount_too_small: {
    code: "invalid-argument",
    when: "A donation under the currency's minimum (docs/donations.md).",
    app: "Ask for at least `min` (minor units of `currency`).",
    params: ["min", "currency"],
    en: (facts) => `Field '${facts.field}': must be at least ${money(facts, "min")}.`,
    cs: (facts) => `Pole '${facts.field}': musí být alespoň ${money(facts, "min")}.`,
  },
  amount_over_remaining: {
    code: "failed-precondition",
    when: "A donation larger than what the wish still needs (or over the currency's maximum).",
    app: "Offer at most `max` (minor units of `currency`).",
    params: ["max", "currency"],
    en: (facts) => `Field '${facts.field}': at most ${money(facts, "max")} can be given to this wish now.`,
    cs: (facts) => `Pole '${facts.field}': na toto přání teď lze dát nejvýše ${money(facts, "max")}.`,
  },
  donation_not_found: {
    code: "not-found",
    when: "The donation does not exist or is not the caller's.",
    app: "Refresh the donations list.",
    en: () => "No such donation.",
    cs: () => "Takový příspěvek neexistuje.",
  },
  donation_already_final: {
    code: "failed-precondition",
    when: "`donate` retried with the `requestId` of a donation that has already succeeded or been canceled, or of a bitcoin donation whose invoice expired or failed (a failed card payment is retried with the same PaymentIntent); or the donor canceled the donation (`cancelDonation`, another device) while `donate` was still making its payment.",
    app: "Show the donation's outcome; a new donation needs a new `requestId`.",
    params: ["status"],
    en: ({ p }) => `This donation is already ${str(p.status)}; use a new requestId for a new donation.`,
    cs: ({ p }) => `Tento příspěvek je už ${csStatus(PAYMENT_STATUS_CS, p.status)}; pro nový příspěvek použijte nové requestId.`,
  },
  donation_already_paid: {
    code: "failed-precondition",
    when: "Canceling a donation that has been paid.",
    app: "Show it as paid; closing the wish refunds it.",
    en: () => "This donation is already paid; it cannot be canceled.",
    cs: () => "Tento příspěvek je už zaplacený; nelze ho zrušit.",
  },
  payment_method_unavailable: {
    code: "failed-precondition",
    when: "`donate` with a `method` (bitcoin, bank_transfer) that is not switched on in this deployment.",
    app: "Offer the other payment methods; hide this one until the app's config lists it again.",
    params: ["method"],
    en: ({ field, p }) => `Field '${field}': paying by ${str(p.method).replace("_", " ")} is not available right now.`,
    cs: ({ field, p }) => `Pole '${field}': platba způsobem ${str(p.method)} teď není k dispozici.`,
  },
  bank_transfer_czk_only: {
    code: "failed-precondition",
    when: "`donate` with `method: \"bank_transfer\"` for a wish in another currency than CZK: transfers reach our Czech account in CZK only (docs/donations.md, \"Bank transfer\").",
    app: "Offer a card for this wish; show bank transfer only for wishes in CZK.",
    params: ["currency"],
    en: ({ field, p }) => `Field '${field}': a bank transfer is possible in CZK only; this wish is in ${str(p.currency)}. Pay by card instead.`,
    cs: ({ field, p }) => `Pole '${field}': bankovním převodem lze platit jen v Kč; toto přání je v ${str(p.currency)}. Zaplaťte kartou.`,
  },
  donation_not_cancelable: {
    code: "failed-precondition",
    when: "`cancelDonation` of a donation that is not paid by card (a bitcoin invoice cannot be withdrawn; it expires by itself).",
    app: "Tell the donor not to pay the invoice; it expires at the time `donate` answered.",
    params: ["method"],
    en: ({ p }) => `A donation paid by ${str(p.method).replace("_", " ")} cannot be canceled; it expires by itself if not paid.`,
    cs: ({ p }) => `Příspěvek placený způsobem ${str(p.method)} nelze zrušit; pokud se nezaplatí, sám vyprší.`,
  },
  donation_processing: {
    code: "failed-precondition",
    when: "Canceling a donation whose payment is being processed.",
    app: "Wait for the outcome on the donation document.",
    en: () => "This payment is being processed; it cannot be canceled now.",
    cs: () => "Tato platba se zpracovává; teď ji nelze zrušit.",
  },
  // refunds and payouts (ops)
  refund_not_failed: {
    code: "failed-precondition",
    when: "Ops retry a refund that has not failed (and is not queued for over an hour).",
    app: "Not for the apps; ops tools only.",
    params: ["status"],
    en: ({ p }) => `The refund is ${str(p.status)}, not failed; only a failed refund, or one queued for over an hour, can be retried.`,
    cs: ({ p }) => `Vrácení je ve stavu ${str(p.status)}, ne failed; znovu lze zkusit jen neúspěšné vrácení, nebo vrácení čekající ve frontě déle než hodinu.`,
  },
  nothing_to_refund: {
    code: "failed-precondition",
    when: "Ops retry a refund of a donation whose wish is not closed or expired, or holds none of the donor's money.",
    app: "Not for the apps; ops tools only.",
    en: () => "Nothing to refund: the donation's wish is not closed or expired, or it holds none of the donor's money.",
    cs: () => "Není co vracet: přání není uzavřené ani vypršelé, nebo už žádné peníze dárce nedrží.",
  },
  payout_not_found: {
    code: "not-found",
    when: "Ops retry the payout of a wish that has none.",
    app: "Not for the apps; ops tools only.",
    en: () => "This wish has no payout.",
    cs: () => "Toto přání nemá žádnou výplatu.",
  },
  payout_not_failed: {
    code: "failed-precondition",
    when: "Ops retry a payout that has not failed (and is not queued for over an hour).",
    app: "Not for the apps; ops tools only.",
    params: ["status"],
    en: ({ p }) => `The payout is ${str(p.status)}, not failed; only a failed payout, or one queued for over an hour, can be retried.`,
    cs: ({ p }) => `Výplata je ve stavu ${str(p.status)}, ne failed; znovu lze zkusit jen neúspěšnou výplatu, nebo výplatu čekající ve frontě déle než hodinu.`,
  },
  dead_letter_not_found: {
    code: "not-found",
    when: "An ops command names a dead letter that does not exist.",
    app: "Not for the apps; ops tools only.",
    en: ({ field }) => `Field '${field}': no such dead letter.`,
    cs: ({ field }) => `Pole '${field}': taková nedoručitelná zpráva neexistuje.`,
  },
  dead_letter_not_redrivable: {
    code: "failed-precondition",
    when: "Re-driving a dead letter of another consumer than the notification worker or the ads consumer, or one whose message was longer than a dead letter keeps (`maxChars`).",
    app: "Not for the apps; ops tools only.",
    params: ["maxChars"],
    en: (facts) =>
      facts.p.maxChars !== undefined
        ? `The message was longer than the ${num(facts, "maxChars")} characters a dead letter keeps; it cannot be re-driven whole.`
        : "Only the notification worker's and the ads consumer's dead letters can be re-driven.",
    cs: (facts) =>
      facts.p.maxChars !== undefined
        ? `Zpráva byla delší než ${num(facts, "maxChars")} znaků, které nedoručitelná zpráva uchovává; celou ji znovu poslat nelze.`
        : "Znovu poslat lze jen nedoručitelné zprávy notifikací a reklamních konverzí.",
  },
  dead_letter_item_not_dead: {
    code: "failed-precondition",
    when: "Re-driving an ads-conversions dead letter whose queued event is no longer dead (already re-driven, sent, skipped, or deleted with its account: `state` `gone`).",
    app: "Not for the apps; ops tools only.",
    params: ["state"],
    en: ({ p }) => `The queued event is ${str(p.state)}, not dead: there is nothing to re-drive.`,
    cs: ({ p }) => `Událost ve frontě je ve stavu ${str(p.state)}, ne dead: není co znovu posílat.`,
  },
  dead_letter_still_unreadable: {
    code: "failed-precondition",
    when: "A re-driven dead letter is still not a domain event.",
    app: "Not for the apps; ops tools only.",
    params: ["problem"],
    en: ({ p }) => `Still not a domain event: ${str(p.problem)}`,
    cs: ({ p }) => `Pořád to není doménová událost: ${str(p.problem)}`,
  },
} as const satisfies Record<string, Entry>;

export type DomainErrorReason = keyof typeof ERROR_CATALOGUE;

/** The message of an error in `locale`, rendered from its reason, field and params alone. */
export function renderErrorMessage(reason: DomainErrorReason, field: string | undefined, params: DomainErrorParams, locale: Locale): string {
  const entry: Entry = ERROR_CATALOGUE[reason];
  return entry[locale]({ field: field ?? "(request)", p: params, locale });
}
