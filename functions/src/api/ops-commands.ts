import { getAuth } from "firebase-admin/auth";
import type { Change, DocumentSnapshot, FirestoreAuthEvent } from "firebase-functions/v2/firestore";
import { z } from "zod";
import { ADS_CONSUMER } from "../analytics/conversions";
import { redriveAdsDeadLetter } from "../analytics/redrive";
import { reconcileWishAction } from "../donations/reconcile";
import { deadLetterConsumer } from "../events/consume";
import { parseInput } from "../lib/errors";
import { idSchema } from "../lib/ids";
import { resolveReport } from "../moderation/reports";
import { redriveDeadLetter } from "../notifications/dead-letters";
import { setAdminClaim } from "../ops/admins";
import { runOpsCommand } from "../ops/commands";
import type { ActionHandler, OpsAction } from "../ops/commands";
import { retryPayout } from "../ops/payouts";
import { freezeWish, retryRefund } from "../ops/refunds";
import { refreshOpsStatus } from "../ops/status";
import { audited, reasonSchema } from "../store/audit-log";
import { baseDeps, db, payoutProvider, taskDeps } from "./deps";
import { notificationDeps } from "./notifications";

/**
 * The ops actions behind `opsCommands` (docs/operations.md, "Ops commands"): the very functions the admin callables
 * run, so a command and a callable do exactly the same thing, audited the same way. Each action's fields are those of
 * its callable; actions without a callable validate theirs here.
 */
const redriveInput = z.object({ deadLetterId: idSchema, reason: reasonSchema }).strict();
const adminInput = z
  .object({ uid: idSchema.optional(), email: z.email().optional(), reason: reasonSchema })
  .strict()
  .refine((input) => (input.uid === undefined) !== (input.email === undefined), { message: "uid_or_email_required", path: ["uid"] });

export function opsActions(): Record<OpsAction, ActionHandler> {
  const admin = (grant: boolean): ActionHandler => async (actor, input) => {
    const parsed = parseInput(adminInput, input);
    return setAdminClaim({ ...baseDeps(), auth: getAuth() }, parsed.uid ?? parsed.email ?? "", grant, actor, parsed.reason);
  };
  return {
    retryRefund: (actor, input) => retryRefund(taskDeps(), actor, input),
    retryPayout: (actor, input) => retryPayout({ ...taskDeps(), provider: payoutProvider() }, actor, input),
    freezeWish: (actor, input) => freezeWish(taskDeps(), actor, { ...input, frozen: true }),
    unfreezeWish: (actor, input) => freezeWish(taskDeps(), actor, { ...input, frozen: false }),
    resolveReport: (actor, input) => resolveReport(baseDeps(), actor, input),
    reconcileWish: (actor, input) => reconcileWishAction(baseDeps(), actor, input),
    redriveDeadLetter: async (actor, input) => {
      const parsed = parseInput(redriveInput, input);
      // Each consumer re-drives its own letters: the notification worker re-reads the message, the ads consumer re-queues
      // its conversion. Feed letters and unknown consumers are refused by the notification worker's check.
      return audited(baseDeps(), { action: "redriveDeadLetter", actorId: actor, target: `ops/deadLetters/items/${parsed.deadLetterId}`, reason: parsed.reason }, async () =>
        (await deadLetterConsumer(db(), parsed.deadLetterId)) === ADS_CONSUMER
          ? redriveAdsDeadLetter(baseDeps(), parsed.deadLetterId)
          : redriveDeadLetter(notificationDeps(), parsed.deadLetterId),
      );
    },
    grantAdmin: admin(true),
    revokeAdmin: admin(false),
  };
}

/** `opsCommands/{commandId}` written (the console): perform the command once and write its outcome back. */
export async function opsCommandOnWrite(event: FirestoreAuthEvent<Change<DocumentSnapshot> | undefined, { commandId: string }>): Promise<void> {
  if (!event.data?.after.exists) return;
  await runOpsCommand({ ...baseDeps(), actions: opsActions() }, event.params.commandId, event.id, { authType: event.authType, authId: event.authId });
}

/** `ops/status`: what needs a human (docs/operations.md, "The status page"). */
export async function refreshOpsStatusJob(): Promise<void> {
  await refreshOpsStatus(baseDeps());
}
