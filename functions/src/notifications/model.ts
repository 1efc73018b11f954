import { z } from "zod";
import { CATEGORIES, LOCALES } from "./catalog";
import { donationDigestSchema } from "../model/digest";

/** Push bookkeeping on an inbox item (server-only; docs/notifications.md, the inbox table and "Donation digests"). */
/**
 * `sending` only on a donation digest while its fold task pushes (an event's item is written after its push, already
 * final); `deferred`: a digest whose news waits for its wish's push interval (digest.ts).
 */
export const PUSH_STATES = ["sending", "sent", "failed", "muted", "no-devices", "deferred"] as const;
export const pushStateSchema = z.object({
  state: z.enum(PUSH_STATES),
  /** While `sending`: another delivery attempt may take over after this time (a crashed worker's lease). */
  leaseUntil: z.date().nullable(),
  attempts: z.number().int(),
  devices: z.number().int(),
  delivered: z.number().int(),
  removedTokens: z.number().int(),
  lastError: z.string().nullable(),
  finishedAt: z.date().nullable(),
});
export type PushState = z.infer<typeof pushStateSchema>;

/**
 * `users/{uid}/notifications/{id}`: one in-app inbox item. For an event, the id is the (encoded) domain event id, so
 * one event notifies one user at most once. For donations, the id is `donations_{wishId}_{n}`: the wish's n-th digest
 * for this user, which the fold task updates while it is unread (`digest` set). Clients may only flip `read` from false
 * to true.
 */
export const inboxItemSchema = z.object({
  type: z.string(),
  category: z.enum(CATEGORIES),
  eventId: z.string(),
  titleKey: z.string(),
  bodyKey: z.string(),
  /** Positional arguments of the keys, rendered for `locale` (money already formatted). */
  args: z.array(z.string()),
  title: z.string(),
  body: z.string(),
  locale: z.enum(LOCALES),
  /** Deep-link ids (all strings): `wishId`, `commentId`, `donationId`, `userId`, ... */
  data: z.record(z.string(), z.string()),
  read: z.boolean(),
  /** Set by markNotificationsRead. */
  readAt: z.date().optional(),
  /** When it was written; a digest's moves to its latest fold, so news of a wish rises to the top of the inbox. */
  createdAt: z.date(),
  push: pushStateSchema,
  /** Only on donation digests. */
  digest: donationDigestSchema.optional(),
});
export type InboxItem = z.infer<typeof inboxItemSchema>;


/** The part of `users/{uid}/private/account` this worker reads; missing fields fall back to defaults. */
export const notificationSettingsSchema = z.object({
  settings: z
    .object({
      locale: z.string().nullish(),
      mutedCategories: z.array(z.string()).nullish(),
    })
    .nullish(),
});

/**
 * `users/{uid}/private/inbox`: the unread count of the inbox (server-owned, owner-readable). Raised in the batch that
 * creates each unread item, lowered by the markNotificationsRead callable in the transaction that marks items read,
 * so it is exact; pushes carry it as the badge and the app may read it instead of counting its inbox.
 */
export const inboxCounterSchema = z.object({
  unread: z.number().int(),
});

export const notificationsCollection = (uid: string) => `users/${uid}/notifications`;
/** `notificationRuns/{eventDocId}`: an event's delivery lease (server only; worker.ts). */
export const NOTIFICATION_RUNS = "notificationRuns";
export const inboxCounterDoc = (uid: string) => `users/${uid}/private/inbox`;
export const accountDoc = (uid: string) => `users/${uid}/private/account`;

