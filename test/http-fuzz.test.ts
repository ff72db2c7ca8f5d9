/**
 * Property-based tests (fast-check) over the request schemas: whatever JSON arrives, validation either
 * accepts it or names a field in a business error. test/http-hostile.test.ts sends the same generated
 * requests through the HTTP edge.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { VisageError } from '../src/errors.js';
import { failureFor } from '../src/http/envelope.js';
import { parseBody, parseParams, parseQuery, requestSchemas } from '../src/http/schemas.js';
import { anyBody, queryValue } from './helpers/request-arbitraries.js';

/** A business error the client can act on: INVALID_PARAM naming a field or the body, or an image refusal. */
function assertNamedFailure(error: unknown): void {
  assert.ok(error instanceof VisageError, `not a VisageError: ${String(error)}`);
  assert.match(error.message, /^(INVALID_PARAM:(\w+)|IMAGE_INVALID:[A-Z0-9_]+|[A-Z_]+_NOT_EXIST)$/);
  assert.equal(failureFor(error).status, 400);
}

describe('request schemas under arbitrary input (fast-check)', () => {
  for (const [endpoint, parts] of Object.entries(requestSchemas)) {
    it(`${endpoint}: accepts or names the offending field`, () => {
      fc.assert(
        fc.property(anyBody, fc.dictionary(fc.constantFrom('pageOffset', 'pageSize', 'x'), queryValue), fc.string({ maxLength: 40 }), (body, query, pathId) => {
          const attempts: Array<() => unknown> = [];
          if ('body' in parts) attempts.push(() => parseBody(parts.body, body));
          if ('query' in parts) attempts.push(() => parseQuery(parts.query, query));
          if ('params' in parts) {
            const name = Object.keys(parts.params.shape)[0]!;
            attempts.push(() => parseParams(parts.params, { [name]: pathId }, 'GROUP_ID_NOT_EXIST'));
          }
          for (const attempt of attempts) {
            try {
              attempt();
            } catch (error) {
              assertNamedFailure(error);
            }
          }
        }),
        { numRuns: 300 },
      );
    });
  }
});
