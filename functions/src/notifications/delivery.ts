import type { DocumentReference, DocumentSnapshot, Firestore } from "firebase-admin/firestore";
import { logger } from "../lib/log";
import { BATCH_LIMIT, chunk } from "../lib/pool";
import { pushTargetsDoc, pushTargetsSchema } from "../model/social";
import type { PushTarget } from "../model/social";
import { removeStaleDevice } from "../store/social";
import { pickLocale, render } from "./catalog";
import type { Rendered } from "./catalog";
import type { Category, Locale, MessageArg, MessageKey } from "./catalog";
import { accountDoc, inboxCounterDoc, inboxCounterSchema, notificationSettingsSchema } from "./model";
import type { InboxItem, PushState } from "./model";
import { buildPushMessage } from "./push";
import type { PushMessage, PushTransport } from "./push";
import { defaultRetryPolicy, sendAll } from "./sender";
import type { RetryPolicy } from "./sender";

/** A device to push to: its id under `users/{uid}/devices` and its entry in `users/{uid}/private/push`. */
export interface Target {
  deviceId: string;
  target: PushTarget;
}

/** What the worker knows of a recipient before delivering: account, locale, muted categories, unread count, devices. */
export interface RecipientState {
  /**
   * Whether `users/{uid}/private/account` exists. It is written with the public profile at sign-up and removed only by
   * deleteAccount, so false means the account is gone (or never finished signing up): such a recipient gets no
   * inbox item, no unread count and no push, because personal data must not outlive the account (docs/social.md).
   */
  hasAccount: boolean;
  locale: Locale;
  muted: string[];
  /** The inbox's unread count before this delivery (users/{uid}/private/inbox). */
  unread: number;
  targets: Target[];
}

/** A recipient none of whose documents exist: no account, so nothing is delivered. */
export const DEFAULT_STATE: RecipientState = { hasAccount: false, locale: pickLocale(), muted: [], unread: 0, targets: [] };

function toState(account: DocumentSnapshot | undefined, counter: unknown, pushTargets: unknown): RecipientState {
  const parsed = notificationSettingsSchema.safeParse(account?.data() ?? {});
  const settings = parsed.success ? parsed.data.settings : undefined;
  const unread = inboxCounterSchema.safeParse(counter ?? {});
  const targets = pushTargetsSchema.safeParse(pushTargets ?? {});
  return {
    hasAccount: account?.exists ?? false,
    locale: pickLocale(settings?.locale),
    muted: settings?.mutedCategories ?? [],
    unread: unread.success ? Math.max(0, unread.data.unread) : 0,
    targets: targets.success ? Object.entries(targets.data.devices).map(([deviceId, target]) => ({ deviceId, target })) : [],
  };
}

/** Recipients whose account, inbox-counter and push-target documents are fetched per `getAll` round trip. */
const RECIPIENTS_PER_READ = 100;
/** `getAll` round trips in flight at once (a 5,000-friend fan-out reads in 5 waves, not 50 round trips in a row). */
const PARALLEL_READS = 10;

/** Every recipient's account (and settings), unread count and push targets: three documents each, by parallel `getAll`s. */
export async function readRecipientStates(db: Firestore, uids: readonly string[]): Promise<Map<string, RecipientState>> {
  const result = new Map<string, RecipientState>();
  const groups = chunk(uids, RECIPIENTS_PER_READ);
  for (const wave of chunk(groups, PARALLEL_READS)) {
    await Promise.all(
      wave.map(async (group) => {
        const snaps = await db.getAll(...group.flatMap((uid) => [db.doc(accountDoc(uid)), db.doc(inboxCounterDoc(uid)), db.doc(pushTargetsDoc(uid))]));
        group.forEach((uid, index) => result.set(uid, toState(snaps[3 * index], snaps[3 * index + 1]?.data(), snaps[3 * index + 2]?.data())));
      }),
    );
  }
  return result;
}

/** Whether each document exists, in order, by parallel `getAll`s of at most 500. */
export async function documentsExist(db: Firestore, refs: readonly DocumentReference[]): Promise<boolean[]> {
  const snaps = await Promise.all(chunk(refs, BATCH_LIMIT).map((group) => (group.length > 0 ? db.getAll(...group) : Promise.resolve([]))));
  return snaps.flat().map((snap) => snap.exists);
}

/** The recipients among `uids` whose account is gone (no `users/{uid}/private/account`; see RecipientState.hasAccount). */
export async function accountsGone(db: Firestore, uids: readonly string[]): Promise<Set<string>> {
  const exist = await documentsExist(db, uids.map((uid) => db.doc(accountDoc(uid))));
  return new Set(uids.filter((_, index) => !exist[index]));
}

/** An inbox item as the worker and the digest fold write it: rendered text, deep link, unread, its push's state. */
export function inboxItem(fields: Pick<InboxItem, "type" | "category" | "eventId" | "data" | "createdAt" | "push" | "digest">, rendered: Rendered): InboxItem {
  const { titleKey, bodyKey, args, title, body, locale } = rendered;
  const { digest, ...rest } = fields;
  return { ...rest, titleKey, bodyKey, args, title, body, locale, read: false, ...(digest ? { digest } : {}) };
}

export function pushState(state: PushState["state"], extra: Partial<PushState> = {}): PushState {
  return { state, leaseUntil: null, attempts: 0, devices: 0, delivered: 0, removedTokens: 0, lastError: null, finishedAt: null, ...extra };
}

/** One recipient's push: what to say and to which of their devices. */
export interface PushRequest {
  uid: string;
  state: RecipientState;
  notificationId: string;
  type: string;
  category: Category;
  messageKey: MessageKey;
  args: readonly MessageArg[];
  data: Record<string, string>;
  threadId: string;
  collapseKey: string;
  /** The unread count the recipient's badge shows (including this item). */
  badge: number;
}

/** How a recipient's push ended, as the item's `push` fields record it. */
export interface PushFinish {
  state: "sent" | "failed" | "no-devices";
  devices: number;
  delivered: number;
  removedTokens: number;
  lastError: string | null;
}

const logStaleTokens = (uid: string, removed: number) => logger.info("stale push tokens removed", { uid, removed });
const logPushFailed = (uid: string, codes: string[], context: Record<string, unknown>) =>
  logger.warn("push failed for some devices", { ...context, uid, codes: [...new Set(codes)] });

/**
 * Pushes to every request's devices at once: one message per distinct token, rendered in the device's locale, all of
 * them through `sendAll` (batches of 500 in parallel: a multicast across recipients, not a sendEach per recipient).
 * Dead tokens' devices are removed. Returns each request's outcome, in order.
 */
export async function pushAll(
  deps: { db: Firestore; push: PushTransport; retry?: RetryPolicy },
  requests: readonly PushRequest[],
  logContext: Record<string, unknown>,
): Promise<PushFinish[]> {
  const messages: PushMessage[] = [];
  const owners: { request: number; target: Target }[] = [];
  requests.forEach((request, index) => {
    const seen = new Set<string>();
    for (const target of request.state.targets) {
      if (seen.has(target.target.token)) continue;
      seen.add(target.target.token);
      owners.push({ request: index, target });
      messages.push(
        buildPushMessage(target.target.token, {
          notificationId: request.notificationId,
          type: request.type,
          category: request.category,
          rendered: render(request.messageKey, request.args, pickLocale(target.target.locale, request.state.locale)),
          data: request.data,
          threadId: request.threadId,
          collapseKey: request.collapseKey,
          badge: request.badge,
        }),
      );
    }
  });
  const report = await sendAll(deps.push, messages, deps.retry ?? defaultRetryPolicy);

  const finishes = requests.map((): PushFinish & { failedCodes: string[]; stale: Target[] } => ({
    state: "no-devices",
    devices: 0,
    delivered: 0,
    removedTokens: 0,
    lastError: null,
    failedCodes: [],
    stale: [],
  }));
  report.outcomes.forEach((outcome, index) => {
    const owner = owners[index];
    const finish = owner && finishes[owner.request];
    if (!owner || !finish) return;
    finish.devices++;
    if (outcome.kind === "delivered") finish.delivered++;
    else if (outcome.kind === "stale") finish.stale.push(owner.target);
    else finish.failedCodes.push(outcome.code);
  });
  // Dead tokens: their devices go, unless re-registered with another token meanwhile.
  await Promise.all(
    finishes.map(async (finish, index) => {
      const uid = requests[index]?.uid;
      if (!uid || finish.stale.length === 0) return;
      const removals = await Promise.allSettled(finish.stale.map(({ deviceId, target }) => removeStaleDevice(deps.db, uid, deviceId, target.token)));
      finish.removedTokens = removals.filter((r) => r.status === "fulfilled" && r.value).length;
      if (finish.removedTokens > 0) logStaleTokens(uid, finish.removedTokens);
    }),
  );
  return finishes.map(({ failedCodes, stale: _stale, ...finish }, index) => {
    if (failedCodes.length > 0) logPushFailed(requests[index]?.uid ?? "?", failedCodes, logContext);
    // "sent" if any device got it; "failed" if none did and some failed for good; "no-devices" if every token was dead.
    const state = finish.delivered > 0 ? "sent" : failedCodes.length > 0 ? "failed" : "no-devices";
    return { ...finish, state, lastError: failedCodes[0] ?? null };
  });
}
