import { z } from "zod";
import { currencySchema } from "./money";

export const WISH_STATUSES = ["open", "funded", "closed", "expired"] as const;
export const wishStatusSchema = z.enum(WISH_STATUSES);
export type WishStatus = z.infer<typeof wishStatusSchema>;

export const audienceSchema = z.object({
  kind: z.enum(["friends", "groups", "people"]),
  groupIds: z.array(z.string()),
  userIds: z.array(z.string()),
});
export type Audience = z.infer<typeof audienceSchema>;

/**
 * `wishes/{wishId}`. See docs/data-model.md. `ownerId` receives the money; `organizerId` created the wish (they differ
 * only for a surprise). `viewerIds` is the materialised audience the rules check; a surprise's recipient is not in
 * it until the wish is funded. `raised`/`donorCount`/`status` are maintained by the server from the ledger.
 */
export const wishSchema = z.object({
  ownerId: z.string(),
  organizerId: z.string(),
  isSurprise: z.boolean(),
  title: z.string(),
  description: z.string(),
  imageUrl: z.string().nullable(),
  amount: z.number().int(),
  currency: currencySchema,
  deadline: z.date(),
  audience: audienceSchema,
  viewerIds: z.array(z.string()),
  status: wishStatusSchema,
  raised: z.number().int(),
  donorCount: z.number().int(),
  hasSucceededDonation: z.boolean(),
  createdAt: z.date(),
  updatedAt: z.date(),
  fundedAt: z.date().nullable(),
  closedAt: z.date().nullable(),
  revealedAt: z.date().nullable(),
});
export type Wish = z.infer<typeof wishSchema>;

export const WISHES = "wishes";
