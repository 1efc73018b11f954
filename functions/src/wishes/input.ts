import { z } from "zod";
import { idSchema } from "../lib/ids";
import { requestIdSchema } from "../lib/requests";
import { CURRENCIES, currencySchema } from "../model/money";
import { WISH_LIMITS } from "../model/wish";

/** Callable input for an audience: who (besides the organizer) may see a wish. */
export const audienceInputSchema = z
  .object({
    kind: z.enum(["friends", "groups", "people"]),
    groupIds: z.array(idSchema).max(WISH_LIMITS.maxGroupIds).default([]),
    userIds: z.array(idSchema).max(WISH_LIMITS.maxUserIds).default([]),
  })
  .strict()
  .superRefine((audience, ctx) => {
    if (audience.kind === "groups" && audience.groupIds.length === 0) {
      ctx.addIssue({ code: "custom", path: ["groupIds"], message: "groups_required" });
    }
    if (audience.kind === "people" && audience.userIds.length === 0) {
      ctx.addIssue({ code: "custom", path: ["userIds"], message: "people_required" });
    }
    if (audience.kind !== "groups" && audience.groupIds.length > 0) {
      ctx.addIssue({ code: "custom", path: ["groupIds"], message: "groups_only_for_groups" });
    }
    if (audience.kind !== "people" && audience.userIds.length > 0) {
      ctx.addIssue({ code: "custom", path: ["userIds"], message: "people_only_for_people" });
    }
  })
  .transform((audience) => ({ ...audience, groupIds: [...new Set(audience.groupIds)], userIds: [...new Set(audience.userIds)] }));

export const titleSchema = z.string().trim().min(1).max(WISH_LIMITS.titleMax);
export const descriptionSchema = z.string().max(WISH_LIMITS.descriptionMax);
/** An https URL as stored, with no whitespace or control character (firestore.rules holds organizer edits to the same). */
export const imageUrlSchema = z
  .url({ protocol: /^https$/, message: "https_url" })
  // eslint-disable-next-line no-control-regex -- control characters are what this refuses
  .regex(/^https:\/\/[^\s\x00-\x1F\x7F]+$/, { message: "https_url" })
  .max(WISH_LIMITS.imageUrlMax)
  .nullable();

/**
 * `createWish` input. `deadline` is an ISO-8601 date-time with an offset (e.g. "2027-03-01T18:00:00Z"); the time
 * checks ("in the future, at most a year ahead") need the clock and live in {@link createWishInput}.
 */
const createWishBase = z
  .object({
    title: titleSchema,
    description: descriptionSchema.default(""),
    amount: z.number().int(),
    currency: currencySchema,
    deadline: z.iso.datetime({ offset: true }),
    imageUrl: imageUrlSchema.optional().default(null),
    audience: audienceInputSchema,
    recipientId: idSchema.optional(),
    /** Client-chosen id of this creation attempt: a retried call with the same id returns the same wish. */
    requestId: requestIdSchema.optional(),
  })
  .strict();

export function createWishInput(now: Date) {
  return createWishBase
    .superRefine((input, ctx) => {
      const limits = CURRENCIES[input.currency];
      if (input.amount < limits.minMinor || input.amount > limits.maxMinor) {
        ctx.addIssue({ code: "custom", path: ["amount"], message: "amount_out_of_range", params: { min: limits.minMinor, max: limits.maxMinor, currency: input.currency } });
      }
      const deadline = new Date(input.deadline).getTime();
      if (deadline <= now.getTime()) {
        ctx.addIssue({ code: "custom", path: ["deadline"], message: "deadline_in_past" });
      } else if (deadline > now.getTime() + WISH_LIMITS.maxDeadlineMs) {
        ctx.addIssue({ code: "custom", path: ["deadline"], message: "deadline_too_far" });
      }
    })
    .transform((input) => ({ ...input, deadline: new Date(input.deadline) }));
}

export const wishIdInput = z.object({ wishId: idSchema }).strict();

export const setAudienceInput = z.object({ wishId: idSchema, audience: audienceInputSchema }).strict();
