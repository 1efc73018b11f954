import { z } from "zod";

/**
 * Domain events: what happened, published once per fact. Producers write them into the outbox (`events/{id}`) in the
 * same batch/transaction as the state change (`donation.received` excepted: the donation's write is its outbox, and
 * the donation trigger publishes it; donations/received.ts); a trigger publishes each to the Pub/Sub topic `domain-events`; the
 * feed and notification workers consume them. `id` is deterministic (e.g. `wish.funded:{wishId}`), so a retried
 * producer cannot create a second event, and consumers dedupe on it.
 */
const base = { id: z.string().min(1), occurredAt: z.string().datetime() };

export const domainEventSchema = z.discriminatedUnion("type", [
  z.object({ ...base, type: z.literal("wish.created"), wishId: z.string(), ownerId: z.string(), organizerId: z.string() }),
  z.object({
    ...base,
    type: z.literal("donation.received"),
    wishId: z.string(),
    donationId: z.string(),
    donorId: z.string(),
    amount: z.number().int(),
    currency: z.string(),
    anonymous: z.boolean(),
  }),
  z.object({ ...base, type: z.literal("wish.funded"), wishId: z.string(), ownerId: z.string() }),
  z.object({ ...base, type: z.literal("surprise.revealed"), wishId: z.string(), ownerId: z.string(), organizerId: z.string() }),
  z.object({ ...base, type: z.literal("wish.closed"), wishId: z.string(), ownerId: z.string(), closedBy: z.string() }),
  z.object({ ...base, type: z.literal("wish.expired"), wishId: z.string(), ownerId: z.string() }),
  z.object({
    ...base,
    type: z.literal("refund.processed"),
    wishId: z.string(),
    donationId: z.string(),
    donorId: z.string(),
    amount: z.number().int(),
    currency: z.string(),
  }),
  /**
   * A refund waits for the donor to claim it (bitcoin: a BTCPay pull payment; id `refund.claimable:{refundId}`). The
   * claim link itself is never in an event: it is on the donor's donation, which only they may read.
   */
  z.object({
    ...base,
    type: z.literal("refund.claimable"),
    wishId: z.string(),
    donationId: z.string(),
    donorId: z.string(),
    amount: z.number().int(),
    currency: z.string(),
  }),
  z.object({ ...base, type: z.literal("payout.sent"), wishId: z.string(), ownerId: z.string(), amount: z.number().int(), currency: z.string() }),
  z.object({ ...base, type: z.literal("comment.added"), wishId: z.string(), commentId: z.string(), authorId: z.string() }),
  z.object({ ...base, type: z.literal("friend_request.received"), fromId: z.string(), toId: z.string() }),
  z.object({ ...base, type: z.literal("friend_request.accepted"), fromId: z.string(), toId: z.string() }),
  z.object({ ...base, type: z.literal("friend.joined"), userId: z.string(), friendIds: z.array(z.string()) }),
  /** A sign-up completed: syncFacebookProfile created the public profile `users/{userId}` (id `user.signed_up:{uid}`). */
  z.object({ ...base, type: z.literal("user.signed_up"), userId: z.string() }),
]);
export type DomainEvent = z.infer<typeof domainEventSchema>;

export const DOMAIN_EVENTS_TOPIC = "domain-events";
export const OUTBOX = "events";
