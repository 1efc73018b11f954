import { Timestamp } from "firebase-admin/firestore";
import type { Firestore, Transaction } from "firebase-admin/firestore";
import { DomainError } from "../lib/errors";
import { friendGroupSchema, friendsCollection, groupsCollection } from "../model/social";
import type { Audience } from "../model/wish";
import { zodConverter } from "../lib/converter";

/** The parts of a wish that decide who may see it. */
export interface AudienceSubject {
  ownerId: string;
  organizerId: string;
  isSurprise: boolean;
  audience: Audience;
  /** When the wish was created (for a surprise: friendships made later do not count). */
  createdAt: Date;
  /** Set while moderation hides the wish pending review (docs/operations.md, "Reports"). */
  hiddenAt?: Date | null;
  revealedAt?: Date | null;
}

/**
 * `strict`: the organizer is choosing the audience right now (createWish, setWishAudience), so a person who is not a
 * friend or a group that does not exist is an `invalid-argument`. Otherwise (a trigger recomputing after a friendship
 * or group changed) such entries are skipped silently: they simply no longer grant access.
 */
export interface ResolveOptions {
  strict: boolean;
}

/** uids of `uid`'s friends (document ids of users/{uid}/friends). */
export async function friendIdsOf(db: Firestore, uid: string): Promise<Set<string>> {
  const snap = await db.collection(friendsCollection(uid)).select().get();
  return new Set(snap.docs.map((doc) => doc.id));
}

/** `uid`'s friends with the time each friendship began (`since`; a friendship without one counts as new). */
async function friendshipsOf(db: Firestore, uid: string): Promise<Map<string, number>> {
  const snap = await db.collection(friendsCollection(uid)).select("since").get();
  return new Map(
    snap.docs.map((doc) => {
      const since: unknown = doc.get("since");
      return [doc.id, since instanceof Timestamp ? since.toMillis() : Number.POSITIVE_INFINITY];
    }),
  );
}

export async function isFriend(db: Firestore, uid: string, otherId: string, tx?: Transaction): Promise<boolean> {
  const ref = db.collection(friendsCollection(uid)).doc(otherId);
  const back = db.collection(friendsCollection(otherId)).doc(uid);
  const [a, b] = tx ? await tx.getAll(ref, back) : await db.getAll(ref, back);
  return Boolean(a?.exists && b?.exists);
}

/**
 * Who may see a wish while moderation hides it: its organizer, and its owner unless it is a surprise they have not
 * been shown yet. Nobody else, whatever the audience says.
 */
export function hiddenWishViewers(wish: Pick<AudienceSubject, "ownerId" | "organizerId" | "isSurprise" | "revealedAt">): string[] {
  const unrevealedSurprise = wish.isSurprise && (wish.revealedAt ?? null) === null;
  return [...new Set(unrevealedSurprise ? [wish.organizerId] : [wish.organizerId, wish.ownerId])].sort();
}

/**
 * The people a wish's audience is drawn from.
 * - An ordinary wish: the owner's friends.
 * - A surprise (docs/wishes.md, "Who can join a surprise"): people who are friends of **both** the recipient and the
 *   organizer, and whose two friendships both began no later than the surprise was created. So no account the
 *   recipient controls can join a surprise by befriending the recipient (or anybody) afterwards: the organizer had
 *   befriended everyone in the audience before the surprise existed. `late` are mutual friends who fail only the
 *   time condition (for the organizer's error message).
 */
async function circleOf(db: Firestore, subject: AudienceSubject): Promise<{ circle: Set<string>; late: Set<string> }> {
  if (!subject.isSurprise) return { circle: await friendIdsOf(db, subject.ownerId), late: new Set() };
  const [ofRecipient, ofOrganizer] = await Promise.all([friendshipsOf(db, subject.ownerId), friendshipsOf(db, subject.organizerId)]);
  const cutoff = subject.createdAt.getTime();
  const circle = new Set<string>();
  const late = new Set<string>();
  for (const [id, since] of ofRecipient) {
    const organizerSince = ofOrganizer.get(id);
    if (organizerSince === undefined) continue;
    (since <= cutoff && organizerSince <= cutoff ? circle : late).add(id);
  }
  return { circle, late };
}

/**
 * Materialises a wish's audience into `viewerIds`: the audience's members within the circle ({@link circleOf}), plus
 * the organizer (always), plus the owner unless it is a surprise (a revealed surprise is no longer open and is never
 * recomputed). Groups are always the organizer's own groups. A wish hidden by moderation has only
 * {@link hiddenWishViewers}.
 */
export async function resolveViewerIds(db: Firestore, subject: AudienceSubject, options: ResolveOptions): Promise<string[]> {
  if (subject.hiddenAt) return hiddenWishViewers(subject);
  const { circle, late } = await circleOf(db, subject);
  /** Why `id` is outside the circle, for `audience_user_not_in_circle` (docs/errors.md). */
  const whyNotInCircle = (id: string) => (!subject.isSurprise ? "not_friend" : late.has(id) ? "late_friend" : "not_mutual");
  const members = new Set<string>();
  switch (subject.audience.kind) {
    case "friends":
      circle.forEach((id) => members.add(id));
      break;
    case "groups": {
      const groups = db.collection(groupsCollection(subject.organizerId)).withConverter(zodConverter(friendGroupSchema));
      const refs = subject.audience.groupIds.map((gid) => groups.doc(gid));
      const snaps = await Promise.all(refs.map((ref) => ref.get()));
      for (const snap of snaps) {
        const group = snap.data();
        if (!group) {
          if (options.strict) throw new DomainError("audience_group_not_found", { field: "audience.groupIds", params: { groupId: snap.id } });
          continue;
        }
        group.memberIds.filter((id) => circle.has(id)).forEach((id) => members.add(id));
      }
      break;
    }
    case "people":
      for (const id of subject.audience.userIds) {
        if (circle.has(id)) members.add(id);
        else if (options.strict) throw new DomainError("audience_user_not_in_circle", { field: "audience.userIds", params: { userId: id, why: whyNotInCircle(id) } });
      }
      break;
  }
  members.add(subject.organizerId);
  if (subject.isSurprise) members.delete(subject.ownerId);
  else members.add(subject.ownerId);
  return [...members].sort();
}
