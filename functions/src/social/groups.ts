import type { Firestore, Transaction } from "firebase-admin/firestore";
import { logger } from "../lib/log";
import { DomainError } from "../lib/errors";
import { z } from "zod";
import type { Clock } from "../lib/clock";
import { idSchema } from "../lib/ids";
import { friendRef, groupsRef } from "../store/social";

export interface GroupsDeps {
  db: Firestore;
  clock: Clock;
}

export const MAX_GROUP_MEMBERS = 200;
export const MAX_GROUPS = 100;

const name = z.string().trim().min(1).max(80);
const memberIds = z
  .array(idSchema)
  .max(MAX_GROUP_MEMBERS)
  .transform((ids) => [...new Set(ids)]);
const groupId = idSchema;

export const createGroupInput = z.object({ name, memberIds: memberIds.default([]) });
export const updateGroupInput = z
  .object({ groupId, name: name.optional(), memberIds: memberIds.optional() })
  .refine((input) => input.name !== undefined || input.memberIds !== undefined, { message: "name_or_members_required", path: ["name"] });
export const deleteGroupInput = z.object({ groupId });

/** Every member must be the owner's friend, checked inside the transaction that writes the group. */
async function requireFriends(db: Firestore, tx: Transaction, uid: string, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  const edges = await tx.getAll(...ids.map((id) => friendRef(db, uid, id)));
  const strangers = ids.filter((_id, index) => !edges[index]?.exists);
  if (strangers.length > 0) {
    throw new DomainError("group_member_not_friend", { field: "memberIds", params: { uids: strangers } });
  }
}

export async function createGroup(deps: GroupsDeps, uid: string, input: z.infer<typeof createGroupInput>): Promise<{ groupId: string }> {
  const now = deps.clock.now();
  const ref = groupsRef(deps.db, uid).doc();
  await deps.db.runTransaction(async (tx) => {
    const count = await tx.get(groupsRef(deps.db, uid).count());
    if (count.data().count >= MAX_GROUPS) throw new DomainError("group_limit_reached", { params: { max: MAX_GROUPS } });
    await requireFriends(deps.db, tx, uid, input.memberIds);
    tx.create(ref, { name: input.name, memberIds: input.memberIds, createdAt: now, updatedAt: now });
  });
  logger.info("group created", { uid, groupId: ref.id, members: input.memberIds.length });
  return { groupId: ref.id };
}

/** Renames and/or replaces the member list (the app sends the whole new list). */
export async function updateGroup(deps: GroupsDeps, uid: string, input: z.infer<typeof updateGroupInput>): Promise<{ groupId: string }> {
  const now = deps.clock.now();
  const ref = groupsRef(deps.db, uid).doc(input.groupId);
  await deps.db.runTransaction(async (tx) => {
    const group = await tx.get(ref);
    if (!group.exists) throw new DomainError("group_not_found", { field: "groupId" });
    if (input.memberIds) await requireFriends(deps.db, tx, uid, input.memberIds);
    tx.update(ref, {
      ...(input.name !== undefined ? { name: input.name } : {}),
      ...(input.memberIds !== undefined ? { memberIds: input.memberIds } : {}),
      updatedAt: now,
    });
  });
  return { groupId: input.groupId };
}

/** Deletes a group. Safe to retry: deleting a missing group answers `{deleted: false}`. */
export async function deleteGroup(deps: GroupsDeps, uid: string, input: z.infer<typeof deleteGroupInput>): Promise<{ deleted: boolean }> {
  const ref = groupsRef(deps.db, uid).doc(input.groupId);
  const deleted = await deps.db.runTransaction(async (tx) => {
    const group = await tx.get(ref);
    if (!group.exists) return false;
    tx.delete(ref);
    return true;
  });
  return { deleted };
}
