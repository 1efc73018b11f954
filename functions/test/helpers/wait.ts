/**
 * Polls `probe` until it returns a value that is not undefined, or fails after `timeoutMs` with `what` in the
 * message. Triggers and tasks run asynchronously in the emulator; this waits for their effect without fixed sleeps.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  { timeoutMs = 15_000, intervalMs = 100 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const suffix = lastError instanceof Error ? ` (last error: ${lastError.message})` : "";
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${suffix}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Asserts that `probe` stays undefined for `forMs`: for "nothing happened" checks after an async trigger. */
export async function staysAbsent<T>(what: string, probe: () => Promise<T | undefined>, forMs = 1500): Promise<void> {
  const deadline = Date.now() + forMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) throw new Error(`Expected ${what} not to happen, but it did: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
