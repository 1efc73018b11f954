import type { Auth } from "firebase-admin/auth";
import { z } from "zod";
import { audited, freezeWish, reasonSchema, retryRefund } from "../closing/ops";
import type { OpsDeps } from "../closing/ops";
import { reconcileWish } from "../donations/reconcile";
import { parseInput } from "../lib/errors";
import { idSchema } from "../lib/ids";
import { resolveReport } from "../moderation/reports";
import type { NotificationDeps } from "../notifications/worker";
import { retryPayout } from "../payouts/ops";
import type { PayoutProvider } from "../payouts/provider";
import { setAdminClaim } from "./admins";
import type { ActionHandler, OpsAction } from "./commands";
import { redriveDeadLetter } from "./dead-letters";

/**
 * The ops actions behind `opsCommands` (docs/operations.md, "Ops commands"): the very functions the admin callables
 * run, so a command and a callable do exactly the same thing, audited the same way. Each action's fields are those of
 * its callable; actions without a callable validate theirs here.
 */
export interface OpsActionDeps {
  ops: OpsDeps;
  payoutProvider: () => Pick<PayoutProvider, "transfersOfWish">;
  notifications: () => NotificationDeps;
  auth: () => Auth;
}

const reconcileWishInput = z.object({ wishId: idSchema, repair: z.boolean().optional(), reason: reasonSchema }).strict();
const redriveInput = z.object({ deadLetterId: idSchema, reason: reasonSchema }).strict();
const adminInput = z
  .object({ uid: idSchema.optional(), email: z.string().email("must be an email address").optional(), reason: reasonSchema })
  .strict()
  .refine((input) => (input.uid === undefined) !== (input.email === undefined), { message: "name the user by exactly one of uid or email", path: ["uid"] });

export function opsActions(deps: OpsActionDeps): Record<OpsAction, ActionHandler> {
  const admin = (grant: boolean): ActionHandler => async (actor, input) => {
    const parsed = parseInput(adminInput, input);
    return setAdminClaim({ ...deps.ops, auth: deps.auth() }, parsed.uid ?? parsed.email ?? "", grant, actor, parsed.reason);
  };
  return {
    retryRefund: (actor, input) => retryRefund(deps.ops, actor, input),
    retryPayout: (actor, input) => retryPayout({ ...deps.ops, provider: deps.payoutProvider() }, actor, input),
    freezeWish: (actor, input) => freezeWish(deps.ops, actor, { ...input, frozen: true }),
    unfreezeWish: (actor, input) => freezeWish(deps.ops, actor, { ...input, frozen: false }),
    resolveReport: (actor, input) => resolveReport(deps.ops, actor, input),
    reconcileWish: async (actor, input) => {
      const parsed = parseInput(reconcileWishInput, input);
      return audited(deps.ops, { action: "reconcileWish", actorId: actor, target: `wishes/${parsed.wishId}`, reason: parsed.reason }, async () => {
        const report = await reconcileWish(deps.ops, parsed.wishId, { repair: parsed.repair ?? false });
        return { result: !report.drift ? "in_order" : report.repaired ? "repaired" : "drift", expected: report.expected, actual: report.actual };
      });
    },
    redriveDeadLetter: async (actor, input) => {
      const parsed = parseInput(redriveInput, input);
      return audited(deps.ops, { action: "redriveDeadLetter", actorId: actor, target: `ops/deadLetters/items/${parsed.deadLetterId}`, reason: parsed.reason }, () =>
        redriveDeadLetter(deps.notifications(), parsed.deadLetterId),
      );
    },
    grantAdmin: admin(true),
    revokeAdmin: admin(false),
  };
}
