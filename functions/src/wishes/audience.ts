import type { Firestore, Transaction } from "firebase-admin/firestore";
import { HttpsError } from "firebase-functions/v2/https";
import { friendGroupSchema, friendsCollection, groupsCollection } from "../model/social";
import type { Audience } from "../model/wish";
import { zodConverter } from "../lib/converter";

/** The parts of a wish that decide who may see it. */
export interface AudienceSubject {
  ownerId: string;
  organizerId: string;
  isSurprise: boolean;
  audience: Audience;
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

export async function isFriend(db: Firestore, uid: string, otherId: string, tx?: Transaction): Promise<boolean> {
  const ref = db.collection(friendsCollection(uid)).doc(otherId);
  const back = db.collection(friendsCollection(otherId)).doc(uid);
  const [a, b] = tx ? await tx.getAll(ref, back) : await db.getAll(ref, back);
  return Boolean(a?.exists && b?.exists);
}

/**
 * Materialises a wish's audience into `viewerIds`. The circle the audience is drawn from is the friends of the owner;
 * for a surprise, the owner is the recipient, so the audience is drawn from the recipient's friends. Groups are always
 * the organizer's own groups, intersected with that circle. The organizer always sees the wish; the owner sees it
 * unless it is a surprise (a revealed surprise is no longer open and is never recomputed).
 */
export async function resolveViewerIds(db: Firestore, subject: AudienceSubject, options: ResolveOptions): Promise<string[]> {
  const circle = await friendIdsOf(db, subject.ownerId);
  const whose = subject.isSurprise ? "a friend of the recipient" : "your friend";
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
          if (options.strict) throw new HttpsError("invalid-argument", `Field 'audience.groupIds': group ${snap.id} does not exist`);
          continue;
        }
        group.memberIds.filter((id) => circle.has(id)).forEach((id) => members.add(id));
      }
      break;
    }
    case "people":
      for (const id of subject.audience.userIds) {
        if (circle.has(id)) members.add(id);
        else if (options.strict) throw new HttpsError("invalid-argument", `Field 'audience.userIds': ${id} is not ${whose}`);
      }
      break;
  }
  members.add(subject.organizerId);
  if (subject.isSurprise) members.delete(subject.ownerId);
  else members.add(subject.ownerId);
  return [...members].sort();
}
