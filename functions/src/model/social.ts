import { z } from "zod";

/** `users/{uid}/friends/{friendUid}`: one side of a mutual friendship; the server always writes both sides together. */
export const friendSchema = z.object({
  friendId: z.string(),
  source: z.enum(["facebook", "app"]),
  since: z.date(),
});
export type Friend = z.infer<typeof friendSchema>;

/** `users/{uid}/groups/{groupId}`: the owner's private list of friends, used to pick a wish's audience. */
export const friendGroupSchema = z.object({
  name: z.string(),
  memberIds: z.array(z.string()),
  createdAt: z.date(),
  updatedAt: z.date(),
});
export type FriendGroup = z.infer<typeof friendGroupSchema>;

export const friendsCollection = (uid: string) => `users/${uid}/friends`;
export const groupsCollection = (uid: string) => `users/${uid}/groups`;
