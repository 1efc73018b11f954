import type { DocumentSnapshot } from "firebase-admin/firestore";
import { logger } from "../lib/log";
import { domainEventSchema } from "../events/schema";
import type { DomainEvent } from "../events/schema";
import { publishDomainEvent } from "../events/publisher";
import type { EventBus } from "../events/publisher";
import { donationSchema } from "../model/donation";
import type { Donation } from "../model/donation";
import { parseStored } from "../store/digests";
import { ledgerEntryId } from "./state";

/** A donation trigger snapshot as a Donation; undefined for a missing document or one that does not parse. */
export function donationOf(snap: DocumentSnapshot | undefined): Donation | undefined {
  return parseStored(donationSchema, snap?.data()) ?? undefined;
}

const bookedCharge = (donation: Donation | undefined): boolean =>
  donation?.paymentIntentId != null && donation.ledgerEntryIds.includes(ledgerEntryId.charge(donation.paymentIntentId));

/**
 * The `donation.received` that a write of `donations/{donationId}` announces: the write that booked the donation's
 * charge in the ledger (ledger.ts; exactly one write does, under its precondition), else null. Derived from the write
 * alone, so a redelivered trigger derives the same event (same id, same `occurredAt`: the payment's success time), and
 * consumers dedupe on the id.
 */
export function donationReceivedEvent(donationId: string, before: Donation | undefined, after: Donation | undefined): DomainEvent | null {
  if (!after || bookedCharge(before) || !bookedCharge(after)) return null;
  return domainEventSchema.parse({
    id: `donation.received:${donationId}`,
    type: "donation.received",
    occurredAt: (after.succeededAt ?? after.updatedAt).toISOString(),
    wishId: after.wishId,
    donationId,
    donorId: after.donorId,
    amount: after.amountReceived ?? after.amount,
    currency: after.currency,
    anonymous: after.anonymous,
  });
}

/**
 * The donation document is the outbox of `donation.received`: the trigger on its writes publishes the event straight to
 * `domain-events`, instead of the webhook writing an `events/{id}` document that a relay reads, publishes and stamps
 * (three operations per donation on the hottest path; docs/donations.md "Operation count").
 */
export async function announceDonationReceived(
  deps: { bus: EventBus },
  donationId: string,
  before: DocumentSnapshot | undefined,
  after: DocumentSnapshot | undefined,
): Promise<DomainEvent | null> {
  const event = donationReceivedEvent(donationId, donationOf(before), donationOf(after));
  if (!event) return null;
  const messageId = await publishDomainEvent(deps.bus, event);
  logger.info("domain event published", { eventId: event.id, type: event.type, messageId, from: "donation" });
  return event;
}
