import assert from 'node:assert/strict';
import { VisageError } from '../../src/errors.js';

/** Asserts that `action` rejects with a VisageError whose message is exactly `message`. */
export async function rejectsWith(action: Promise<unknown>, message: string): Promise<void> {
  await assert.rejects(action, (error: unknown) => {
    assert.ok(error instanceof VisageError, `expected a VisageError, got ${String(error)}`);
    assert.equal(error.message, message);
    return true;
  });
}
