import { createHash } from "node:crypto";
import { Timestamp } from "firebase-admin/firestore";
import type { CollectionReference, DocumentReference, Transaction } from "firebase-admin/firestore";
import type { z } from "zod";
import type { TaskEnqueuer } from "../lib/tasks";
import { MAX_DONATIONS_PER_DIGEST, MAX_MARKERS_PER_FOLD, digestMarkerSchema } from "../model/digest";
import type { DigestMarker, DonationDigest } from "../model/digest";

/** The mechanics the notification and feed digests share: markers, the per-interval fold task, the sums. */

/** A stored document through its schema (Timestamps as Dates, at any depth), or null when it does not match. */
export function parseStored<T>(schema: z.ZodType<T>, data: Record<string, unknown> | undefined): T | null {
  if (!data) return null;
  const parsed = schema.safeParse(convertTimestamps(data));
  return parsed.success ? parsed.data : null;
}

function convertTimestamps(value: unknown): unknown {
  if (value instanceof Timestamp) return value.toDate();
  if (Array.isArray(value)) return value.map(convertTimestamps);
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, convertTimestamps(inner)]));
  return value;
}

/** A fold runs this long after its interval ends, so that clock skew cannot run it before the interval's markers. */
const FOLD_MARGIN_MS = 250;

/**
 * Asks for the fold of the interval `at` falls in, run just after it ends. The task id names the digest (`key`,
 * hashed: uids and wish ids may hold characters a task id may not) and the interval: every other request of that
 * interval is refused as a duplicate, and a late one after the fold ran loses nothing (that fold read after the
 * marker was committed). So a digest is folded at most once per interval.
 */
export function scheduleIntervalFold(
  tasks: TaskEnqueuer,
  fold: { queue: string; prefix: string; key: string; intervalMs: number; payload: Record<string, unknown> },
  at: Date,
): Promise<"enqueued" | "duplicate"> {
  const interval = Math.floor(at.getTime() / fold.intervalMs);
  const key = createHash("sha256").update(fold.key).digest("hex").slice(0, 40);
  return tasks.enqueue(fold.queue, fold.payload, { id: `${fold.prefix}-${key}-${interval}`, scheduleTime: new Date((interval + 1) * fold.intervalMs + FOLD_MARGIN_MS) });
}

/** The unfolded markers, oldest first, read in the fold's transaction (at most MAX_MARKERS_PER_FOLD; `more` if maybe more). */
export async function readUnfolded(tx: Transaction, markers: CollectionReference): Promise<{ pending: { ref: DocumentReference; marker: DigestMarker }[]; full: boolean }> {
  const snap = await tx.get(markers.where("folded", "==", false).limit(MAX_MARKERS_PER_FOLD));
  const pending = snap.docs
    .map((doc) => ({ ref: doc.ref, marker: parseStored(digestMarkerSchema, doc.data()) }))
    .filter((entry): entry is { ref: DocumentReference; marker: DigestMarker } => entry.marker !== null)
    .sort((a, b) => a.marker.occurredAt.getTime() - b.marker.occurredAt.getTime() || a.marker.donationId.localeCompare(b.marker.donationId));
  return { pending, full: snap.size >= MAX_MARKERS_PER_FOLD };
}

/** The markers that fit into a digest (`base`, or a new one): up to its room, in its currency. */
export function takeForDigest<T extends { marker: DigestMarker }>(base: DonationDigest | null, pending: readonly T[]): T[] {
  const room = MAX_DONATIONS_PER_DIGEST - (base?.donations ?? 0);
  const currency = base?.currency ?? pending[0]?.marker.currency;
  const taken: T[] = [];
  for (const entry of pending) {
    if (taken.length >= room || entry.marker.currency !== currency) break;
    taken.push(entry);
  }
  return taken;
}

/** May the next markers go into `base`? Only while it has room and is in their currency. */
export function hasRoom(base: DonationDigest, next: DigestMarker | undefined): boolean {
  return base.donations < MAX_DONATIONS_PER_DIGEST && (!next || next.currency === base.currency);
}

/** Adds folded markers to a digest (or starts one): exact sums, each named donor once, anonymous ones counted. */
export function addToDigest(base: DonationDigest | null, wishId: string, folded: readonly DigestMarker[]): DonationDigest {
  const first = folded[0];
  const digest: DonationDigest = base
    ? { ...base, donors: [...base.donors] }
    : { wishId, donations: 0, amount: 0, currency: first?.currency ?? "", donors: [], anonymous: 0, people: 0, firstAt: first?.occurredAt ?? new Date(0), lastAt: new Date(0) };
  for (const marker of folded) {
    digest.donations++;
    digest.amount += marker.amount;
    if (marker.donorId === null) digest.anonymous++;
    else if (!digest.donors.some((donor) => donor.userId === marker.donorId)) digest.donors.push({ userId: marker.donorId, name: marker.donorName ?? "ElateMe" });
    if (marker.occurredAt > digest.lastAt) digest.lastAt = marker.occurredAt;
    if (marker.occurredAt < digest.firstAt) digest.firstAt = marker.occurredAt;
  }
  digest.people = digest.donors.length + digest.anonymous;
  return digest;
}
