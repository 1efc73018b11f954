import type { DocumentSnapshot, Firestore } from "firebase-admin/firestore";
import { logger } from "../lib/log";
import { z } from "zod";
import type { Clock } from "../lib/clock";
import { zodConverter } from "../lib/converter";
import { invalidInput } from "../lib/errors";

/**
 * Ops actions as documents (docs/operations.md, "Ops commands"): an admin creates `opsCommands/{id}` in the console —
 * `{ action, <the action's fields>, reason, operator? }` — and `runOpsCommand` performs it exactly once and writes the
 * outcome back on the same document. The run record `ops/commandRuns/items/{id}` (server-only) is the truth of
 * whether the command ran: it is created in a transaction before the action starts, so a repeated trigger, an edit of
 * the document or a retry of the delivery never performs the action a second time.
 */
export const OPS_COMMANDS = "opsCommands";
export const COMMAND_RUNS = "ops/commandRuns/items";

export const OPS_ACTIONS = [
  "retryRefund",
  "retryPayout",
  "freezeWish",
  "unfreezeWish",
  "reconcileWish",
  "resolveReport",
  "redriveDeadLetter",
  "grantAdmin",
  "revokeAdmin",
] as const;
export type OpsAction = (typeof OPS_ACTIONS)[number];

/** Fields of a command document that are ours (the outcome) or the command's frame, not the action's input. */
const FRAME_FIELDS = ["action", "operator", "status", "result", "error", "actor", "startedAt", "completedAt"] as const;

const commandFrameSchema = z.object({
  action: z.enum(OPS_ACTIONS, { error: () => `must be one of ${OPS_ACTIONS.join(", ")}` }),
  operator: z.string().trim().min(1).max(200).optional(),
});

/** What an action answers: its `result` word and any details for ops. */
export type ActionOutcome = { result: string } & Record<string, unknown>;
/** An action performed by `actor` with the command's own fields (`reason` and the target ids). */
export type ActionHandler = (actor: string, input: Record<string, unknown>) => Promise<ActionOutcome>;

export interface OpsCommandDeps {
  db: Firestore;
  clock: Clock;
  actions: Record<OpsAction, ActionHandler>;
}

/** Who wrote the document, as the platform reports it (Firestore triggers with auth context). */
export interface WriterIdentity {
  authType: string;
  authId?: string;
}

export const COMMAND_STATUSES = ["running", "done", "rejected", "failed"] as const;
export type CommandStatus = (typeof COMMAND_STATUSES)[number];

/** `ops/commandRuns/items/{commandId}`: whether and how a command ran (server-only; the command document mirrors it). */
const commandRunSchema = z.object({
  action: z.string(),
  status: z.enum(COMMAND_STATUSES),
  actor: z.string().nullable(),
  /** The event that claimed the run: its redelivery (the platform retries only after a failed attempt) finds it. */
  eventId: z.string(),
  input: z.record(z.string(), z.unknown()),
  result: z.record(z.string(), z.unknown()).nullable(),
  error: z.string().nullable(),
  startedAt: z.date(),
  completedAt: z.date().nullable(),
});
type CommandRun = z.infer<typeof commandRunSchema>;
const runConverter = zodConverter(commandRunSchema);

/** Error codes that mean "this command cannot be done as written" (rejected) rather than "it broke" (failed). */
const REFUSALS = new Set(["invalid-argument", "not-found", "failed-precondition", "permission-denied", "already-exists", "out-of-range"]);

function outcomeFields(run: CommandRun) {
  return { status: run.status, actor: run.actor, result: run.result, error: run.error, completedAt: run.completedAt };
}

/**
 * The document no longer shows the run's outcome (someone edited it): write it again. Compared on the plain fields
 * only, so our own outcome write, which triggers us once more, always matches (no write loop).
 */
function differs(doc: DocumentSnapshot, run: CommandRun): boolean {
  return doc.get("status") !== run.status || (doc.get("error") ?? null) !== run.error || (doc.get("actor") ?? null) !== run.actor || !doc.get("completedAt");
}

function actorOf(writer: WriterIdentity, operator: string | undefined): string | null {
  const platform = writer.authId && writer.authType !== "unauthenticated" ? `${writer.authType}:${writer.authId}` : null;
  if (platform && operator) return `${platform} (operator ${operator})`;
  return platform ?? (operator ? `operator:${operator}` : null);
}

export type CommandHandling = "performed" | "rejected" | "failed" | "interrupted" | "already-ran" | "in-progress" | "deleted";

/**
 * Handles one write of `opsCommands/{commandId}`. The first write of a new command claims the run and performs the
 * action; every later write (our outcome, an edit, a duplicate) only makes sure the document shows the run's outcome.
 */
export async function runOpsCommand(deps: OpsCommandDeps, commandId: string, eventId: string, writer: WriterIdentity): Promise<CommandHandling> {
  const commandRef = deps.db.collection(OPS_COMMANDS).doc(commandId);
  const runRef = deps.db.collection(COMMAND_RUNS).doc(commandId).withConverter(runConverter);

  // Most writes of a command are our own outcome writes: answered by two reads, without a transaction.
  const [settledRun, current] = await Promise.all([runRef.get(), commandRef.get()]);
  if (!current.exists) return "deleted";
  const settled = settledRun.data();
  if (settled && settled.status !== "running" && !differs(current, settled)) return "already-ran";

  type Claim = { kind: "run"; run: CommandRun; action: OpsAction } | { kind: "settled"; handling: CommandHandling };
  const claim = await deps.db.runTransaction(async (tx): Promise<Claim> => {
    const [command, existing] = await Promise.all([tx.get(commandRef), tx.get(runRef)]);
    if (!command.exists) return { kind: "settled", handling: "deleted" };
    const now = deps.clock.now();
    const run = existing.data();
    if (run) {
      if (run.status === "running") {
        // The platform redelivers an event only after the attempt that claimed it failed or timed out: that attempt
        // is gone, and whether the action happened is unknown. Say so; never run it again.
        if (run.eventId !== eventId) return { kind: "settled", handling: "in-progress" };
        const interrupted: CommandRun = { ...run, status: "failed", error: "Interrupted after it started: check auditLog for its entry before creating a new command.", completedAt: now };
        tx.set(runRef, interrupted);
        tx.update(commandRef, outcomeFields(interrupted));
        return { kind: "settled", handling: "interrupted" };
      }
      if (differs(command, run)) tx.update(commandRef, outcomeFields(run));
      return { kind: "settled", handling: "already-ran" };
    }
    const data: Record<string, unknown> = command.data() ?? {};
    const input = Object.fromEntries(Object.entries(data).filter(([key]) => !(FRAME_FIELDS as readonly string[]).includes(key)));
    const frame = commandFrameSchema.safeParse({ action: data.action, operator: data.operator });
    const actor = actorOf(writer, frame.success ? frame.data.operator : undefined);
    const base = { action: typeof data.action === "string" ? data.action : "", actor, eventId, input, result: null, startedAt: now };
    let refusal: string | null = null;
    if (!frame.success) refusal = invalidInput(frame.error, { action: data.action, operator: data.operator }).message;
    else if (!actor) refusal = "Field 'operator': must name who acts (the platform did not say who wrote this document).";
    if (refusal !== null || !frame.success) {
      const rejected: CommandRun = { ...base, status: "rejected", error: refusal, completedAt: now };
      tx.create(runRef, rejected);
      tx.update(commandRef, outcomeFields(rejected));
      return { kind: "settled", handling: "rejected" };
    }
    const running: CommandRun = { ...base, status: "running", error: null, completedAt: null };
    tx.create(runRef, running);
    tx.update(commandRef, { status: "running", actor, startedAt: now });
    return { kind: "run", run: running, action: frame.data.action };
  });
  if (claim.kind === "settled") return claim.handling;

  const { run, action } = claim;
  let finished: CommandRun;
  try {
    const outcome = await deps.actions[action](run.actor ?? "unknown", run.input);
    finished = { ...run, status: "done", result: outcome, completedAt: deps.clock.now() };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const message = error instanceof Error ? error.message : String(error);
    const refused = typeof code === "string" && REFUSALS.has(code);
    finished = { ...run, status: refused ? "rejected" : "failed", error: refused ? message : `${typeof code === "string" ? `${code}: ` : ""}${message}`, completedAt: deps.clock.now() };
    if (!refused) logger.error("ops command failed", { commandId, action, error: message });
  }
  await deps.db.runTransaction(async (tx) => {
    const command = await tx.get(commandRef);
    tx.set(runRef, finished);
    if (command.exists) tx.update(commandRef, outcomeFields(finished));
  });
  logger.info("ops command", { commandId, action, actor: run.actor, status: finished.status });
  return finished.status === "done" ? "performed" : finished.status === "rejected" ? "rejected" : "failed";
}
