/** The audit log of destructive operations: who (key id or "anonymous"), what, on what, when. */
import type { AuditPage, Page, Store } from '../store/store.js';

/** The actor when access control is off. */
export const ANONYMOUS = 'anonymous';

export class AuditLog {
  constructor(
    private readonly store: Store,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async record(actor: string, action: string, target: string): Promise<void> {
    await this.store.appendAudit({ at: this.clock().toISOString(), actor, action, target });
  }

  list(page: Page): Promise<AuditPage> {
    return this.store.listAudit(page);
  }
}
