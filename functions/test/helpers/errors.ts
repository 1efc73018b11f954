import assert from "node:assert/strict";
import { FunctionsError } from "firebase/functions";

/** Asserts that a callable rejects with `functions/<code>` (and, if given, a message matching `message`). */
export async function expectCode(promise: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof FunctionsError, `expected a FunctionsError, got ${String(error)}`);
    assert.equal(error.code, `functions/${code}`, error.message);
    if (message) assert.match(error.message, message);
    return true;
  });
}
