import { z } from "zod";

/**
 * Donation digests (docs/notifications.md "Donation digests", docs/wishes.md "Feed"): the donations of a busy wish
 * summed up in one inbox item or feed item that a fold task updates at most once per interval, instead of one item
 * per donation.
 */

/** A named donor in a digest: the uid (deep link to the profile) and the display name when the donation came in. */
export const digestDonorSchema = z.object({ userId: z.string(), name: z.string() });

/**
 * What a digest sums up: every donation folded into it, exactly. `amount` is the sum of their amounts in integer minor
 * units of `currency` (the wish's); `donors` the named donors, each once, in the order they first gave; `anonymous`
 * the number of anonymous donations (never named); `people` the named donors plus one per anonymous donation.
 */
export const donationDigestSchema = z.object({
  wishId: z.string(),
  donations: z.number().int(),
  amount: z.number().int(),
  currency: z.string(),
  donors: z.array(digestDonorSchema),
  anonymous: z.number().int(),
  people: z.number().int(),
  firstAt: z.date(),
  lastAt: z.date(),
});
export type DonationDigest = z.infer<typeof donationDigestSchema>;

/**
 * One donation waiting for (or folded into) a digest: created once per donation (its id is the donation id, so a
 * redelivered event is refused), flagged `folded` by the fold transaction that counts it. Server only.
 */
export const digestMarkerSchema = z.object({
  donationId: z.string(),
  eventId: z.string(),
  /** Null for an anonymous donation: the digest counts it and never names its donor. */
  donorId: z.string().nullable(),
  donorName: z.string().nullable(),
  amount: z.number().int(),
  currency: z.string(),
  wishTitle: z.string(),
  occurredAt: z.date(),
  folded: z.boolean(),
  digestId: z.string().nullable(),
});
export type DigestMarker = z.infer<typeof digestMarkerSchema>;

/** Markers folded per transaction: each is flagged in it, and with the digest's own writes that stays under 500. */
export const MAX_MARKERS_PER_FOLD = 400;
/** A digest holds at most this many donations; the next ones start a new item (its document stays far below 1 MiB). */
export const MAX_DONATIONS_PER_DIGEST = 200;
