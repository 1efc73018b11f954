import { z } from "zod";

/**
 * Ads attribution (docs/analytics.md): the server-side Conversions API events we send to Meta for a consenting user.
 * `users/{uid}/adsEvents/{eventDocId}` is one domain event's conversion for one dataset, created with `create()` the
 * first time the event is seen (so a redelivered domain event adds nothing), then `pending` → `sent`, `skipped` (the
 * send-time checks said no) or `dead` (the Conversions API failed every attempt; a dead letter went to ops). Server
 * only: the rules give clients no access. Lives under the user, so deleting the account deletes it.
 */
export const ADS_EVENT_NAMES = ["CompleteRegistration", "Donate"] as const;
export type AdsEventName = (typeof ADS_EVENT_NAMES)[number];

export const ADS_EVENT_STATES = ["pending", "sent", "skipped", "dead"] as const;

export const adsEventSchema = z.object({
  /** The domain event this conversion comes from (`user.signed_up:{uid}`, `donation.received:{donationId}`). */
  eventId: z.string(),
  eventName: z.enum(ADS_EVENT_NAMES),
  uid: z.string(),
  donationId: z.string().nullable(),
  /** When the domain event happened: the conversion's `event_time`. */
  occurredAt: z.date(),
  /** The Conversions API dataset (pixel) it is for: a queue per dataset, so a reconfiguration never mixes them. */
  datasetId: z.string(),
  state: z.enum(ADS_EVENT_STATES),
  /** Sends attempted (a claimed batch counts as an attempt, whatever its outcome). */
  attempts: z.number().int(),
  /** A pending item is due from then on; a claimed one is leased to its sender until then. */
  nextAttemptAt: z.date(),
  lastError: z.string().nullable(),
  /** Why it was skipped (no consent, refunded, surprise wish, …): a reason code, never personal data. */
  skippedReason: z.string().nullable(),
  sentAt: z.date().nullable(),
  /** The domain event as published (kept for the dead letter of an item that failed every attempt). */
  data: z.string(),
  /** The Pub/Sub message that first brought it. */
  messageId: z.string(),
  createdAt: z.date(),
});
export type AdsEvent = z.infer<typeof adsEventSchema>;

export const ADS_EVENTS = "adsEvents";
export const adsEventsCollection = (uid: string) => `users/${uid}/${ADS_EVENTS}`;

/** What the send-time checks read of `users/{uid}/private/account`: the consent and the email (hashed before use). */
export const adsAccountSchema = z.object({
  email: z.string().nullable().optional(),
  settings: z.object({ adsConsent: z.boolean().optional() }).optional(),
});
