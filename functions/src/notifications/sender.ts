import type { PushMessage, PushResult, PushTransport } from "./push";

/** FCM's `sendEach` limit. */
export const MAX_BATCH = 500;

/** The token is dead: delete the device. */
export function isStaleTokenError(result: { code: string; message: string }): boolean {
  if (result.code === "messaging/registration-token-not-registered" || result.code === "messaging/invalid-registration-token") return true;
  // FCM v1 answers a malformed token with INVALID_ARGUMENT, which firebase-admin reports as invalid-argument; only
  // this message identifies the token (any other invalid-argument is our payload's fault and must not delete it).
  return result.code === "messaging/invalid-argument" && /registration token is not a valid FCM registration token/i.test(result.message);
}

/** Worth another try after a pause. */
export function isTransientError(code: string): boolean {
  return ["messaging/server-unavailable", "messaging/internal-error", "messaging/unknown-error", "messaging/message-rate-exceeded"].includes(code);
}

export interface RetryPolicy {
  /** Total tries per message, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  sleep(ms: number): Promise<void>;
}

export const defaultRetryPolicy: RetryPolicy = {
  maxAttempts: 4,
  baseDelayMs: 500,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** What became of one message: delivered, its token dead, or failed for good (with the last error code). */
export type MessageOutcome = { kind: "delivered" } | { kind: "stale" } | { kind: "failed"; code: string };

export interface SendReport {
  delivered: number;
  /** One outcome per message, in the order given (so a caller sending for many recipients can tell each its own). */
  outcomes: MessageOutcome[];
  /** Tokens FCM called dead (to delete). */
  staleTokens: string[];
  /** Messages that failed for good (permanent error, or transient after the last attempt). */
  failed: { token: string; code: string }[];
  attempts: number;
}

/**
 * Sends every message: batches of at most 500 (sent in parallel); transient failures retried with exponential backoff and jitter up to
 * `maxAttempts`; stale-token failures reported for deletion. A transport that throws counts as transient for the
 * whole batch.
 */
export async function sendAll(transport: PushTransport, messages: PushMessage[], policy: RetryPolicy = defaultRetryPolicy): Promise<SendReport> {
  const report: SendReport = { delivered: 0, outcomes: messages.map(() => ({ kind: "failed", code: "messaging/unknown-error" })), staleTokens: [], failed: [], attempts: 0 };
  let pending = messages.map((message, index) => ({ message, index }));
  for (let attempt = 1; pending.length > 0; attempt++) {
    report.attempts = attempt;
    const retry: typeof pending = [];
    // Every batch of an attempt at once: a fan-out to 5,000 devices is 10 sendEach calls in flight, not in a row.
    const batches = [];
    for (let start = 0; start < pending.length; start += MAX_BATCH) batches.push(pending.slice(start, start + MAX_BATCH));
    const answers = await Promise.all(
      batches.map(async (batch): Promise<PushResult[]> => {
        try {
          return await transport.sendEach(batch.map((entry) => entry.message));
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          return batch.map(() => ({ ok: false, code: "messaging/server-unavailable", message }));
        }
      }),
    );
    batches.forEach((batch, b) =>
      batch.forEach((entry, index) => {
        const result = answers[b]?.[index] ?? { ok: false, code: "messaging/unknown-error", message: "no result" };
        if (result.ok) {
          report.delivered++;
          report.outcomes[entry.index] = { kind: "delivered" };
        } else if (isStaleTokenError(result)) {
          report.staleTokens.push(entry.message.token);
          report.outcomes[entry.index] = { kind: "stale" };
        } else if (isTransientError(result.code) && attempt < policy.maxAttempts) retry.push(entry);
        else {
          report.failed.push({ token: entry.message.token, code: result.code });
          report.outcomes[entry.index] = { kind: "failed", code: result.code };
        }
      }),
    );
    pending = retry;
    if (pending.length > 0) {
      const backoff = policy.baseDelayMs * 2 ** (attempt - 1);
      await policy.sleep(backoff + Math.floor(Math.random() * (backoff / 2)));
    }
  }
  return report;
}
