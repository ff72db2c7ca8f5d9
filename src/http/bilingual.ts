/**
 * Field documentation in both languages of the contract: English (api.md) first, then the original's Chinese
 * (seed-face-api.zh.md). It goes on the zod schemas as `.meta(...)`, so the OpenAPI document generated from
 * them carries it.
 */
import type { GlobalMeta } from 'zod';

export function bilingual(english: string, chinese: string): GlobalMeta & { description: string } {
  return { description: `${english}\n\n${chinese}` };
}
