import assert from "node:assert/strict";
import { FunctionsError } from "firebase/functions";

/**
 * Asserts that a callable rejects with `functions/<code>` and, if given, a message matching a RegExp or `details`
 * holding every entry of an object (`{ reason: "amount_over_remaining", max: 1500 }`).
 */
export async function expectCode(promise: Promise<unknown>, code: string, expected?: RegExp | Record<string, unknown>): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof FunctionsError, `expected a FunctionsError, got ${String(error)}`);
    assert.equal(error.code, `functions/${code}`, error.message);
    if (expected instanceof RegExp) assert.match(error.message, expected);
    else if (expected) {
      const details = (error.details ?? {}) as Record<string, unknown>;
      for (const [key, value] of Object.entries(expected)) assert.deepEqual(details[key], value, `details.${key} of ${JSON.stringify(error.details)}`);
    }
    return true;
  });
}
