/**
 * Copies a whole library from one store to another (SQLite → PostgreSQL, or back) without re-enrolling:
 * groups, every image with its faces (embeddings, crops, ids, bindings), API keys and the audit log.
 * Each image is one transaction in the target, and what the target already has is skipped, so an
 * interrupted copy is finished by running it again.
 */
import type { Store } from './store.js';

export interface CopyReport {
  groups: number;
  images: number;
  faces: number;
  /** Images the target already had (an earlier, interrupted run). */
  skippedImages: number;
  apiKeys: number;
  auditEntries: number;
}

const AUDIT_PAGE = 1000;

export async function copyLibrary(
  source: Store,
  target: Store,
  onProgress: (report: Readonly<CopyReport>) => void = () => {},
): Promise<CopyReport> {
  const report: CopyReport = { groups: 0, images: 0, faces: 0, skippedImages: 0, apiKeys: 0, auditEntries: 0 };

  // Groups first (faces are bound to them), in their order; existing ones (`default`) take the source's fields.
  const existing = new Set((await target.listGroups()).map((group) => group.groupId));
  for (const { faceCount: _faceCount, ...group } of await source.listGroups()) {
    if (existing.has(group.groupId)) await target.updateGroup(group);
    else await target.createGroup(group);
    report.groups += 1;
  }

  for await (const exported of source.exportImages()) {
    if (await target.importImage(exported)) {
      report.images += 1;
      report.faces += exported.faces.length;
    } else {
      report.skippedImages += 1;
    }
    if ((report.images + report.skippedImages) % 500 === 0) onProgress(report);
  }

  for (const key of await source.listApiKeys()) {
    if (!(await target.getApiKey(key.keyId))) {
      await target.createApiKey(key); // created active; the revocation follows
      report.apiKeys += 1;
    }
    if (key.revokedAt !== undefined) await target.revokeApiKey(key.keyId, key.revokedAt);
  }

  // The target's log is taken to be the head of the source's (a new target, or an interrupted copy).
  const already = (await target.listAudit({ offset: 0, size: 1 })).total;
  for (let offset = already; ; offset += AUDIT_PAGE) {
    const { entries } = await source.listAudit({ offset, size: AUDIT_PAGE });
    for (const { id: _id, ...entry } of entries) await target.appendAudit(entry);
    report.auditEntries += entries.length;
    if (entries.length < AUDIT_PAGE) break;
  }

  onProgress(report);
  return report;
}
