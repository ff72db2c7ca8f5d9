/** Section 2 of api.md: groups and the bindings of faces to groups. */
import { VisageError } from '../errors.js';
import { DEFAULT_GROUP_ID, type BindingChange } from '../store/store.js';
import type { LibraryContext } from './context.js';
import type {
  BindingReport,
  FacePage,
  GroupChanges,
  GroupDeleteMode,
  GroupInfo,
  GroupLibrary,
  NewGroup,
  PageRequest,
} from './types.js';

export class GroupService implements GroupLibrary {
  constructor(private readonly context: LibraryContext) {}

  async list(): Promise<GroupInfo[]> {
    const groups = await this.context.store.listGroups();
    return groups.map(({ faceCount, ...group }) => ({ ...group, groupFaces: faceCount }));
  }

  async create(group: NewGroup): Promise<void> {
    // The store checks groupId and (non-empty) groupName uniqueness and the limit in one transaction;
    // the limit counts `default`, so 63 more groups can be created with the default limit of 64.
    await this.context.store.createGroup(group);
  }

  async update(changes: GroupChanges): Promise<void> {
    await this.context.store.updateGroup(changes);
  }

  async delete(groupId: string, mode: GroupDeleteMode): Promise<void> {
    // `default` cannot go: modes 1, 2 and 4 delete the group → GROUP_BEUSED. Mode 3 keeps the group
    // (it only empties it), so it is allowed on `default`.
    if (groupId === DEFAULT_GROUP_ID && mode !== 3) throw new VisageError('GROUP_BEUSED');
    const { store, index, writes } = this.context;
    await writes.run(async () => {
      const removed = await store.deleteGroup(groupId, mode);
      for (const faceToken of removed.removedFaceTokens) index.remove(faceToken);
      // Every mode leaves the group without members (mode 3 keeps it empty).
      index.dropGroup(groupId);
    });
  }

  async members(groupId: string, page: PageRequest): Promise<FacePage> {
    const { total, rows } = await this.context.store.listGroupMembers(groupId, page);
    return { total, faces: rows };
  }

  bind(faceToken: string, groupIds: string[]): Promise<BindingReport> {
    // Binding a group the face is already in succeeds (idempotent).
    return this.changeBindings(faceToken, groupIds, (store) => store.bind(faceToken, groupIds));
  }

  unbind(faceToken: string, groupIds: string[]): Promise<BindingReport> {
    // Unbinding a group the face is not in succeeds (idempotent).
    return this.changeBindings(faceToken, groupIds, (store) => store.unbind(faceToken, groupIds));
  }

  private async changeBindings(
    faceToken: string,
    groupIds: string[],
    change: (store: LibraryContext['store']) => Promise<BindingChange>,
  ): Promise<BindingReport> {
    const { store, index, writes } = this.context;
    // Unknown faceToken → FACE_TOKEN_NOT_EXIST (thrown by the store); unknown groups → failInfo.
    const outcome = await writes.run(async () => {
      const result = await change(store);
      index.updateGroups(faceToken, result.groupIds);
      return result;
    });
    return bindingReport(groupIds, new Set(outcome.unknownGroupIds));
  }
}

/** totalCnt counts the list as given (duplicates included); each unknown entry is one failure. */
function bindingReport(requested: readonly string[], unknown: ReadonlySet<string>): BindingReport {
  const failInfo = requested
    .filter((groupId) => unknown.has(groupId))
    .map((groupId) => ({ groupId, errorMsg: 'GROUP_ID_NOT_EXIST' }));
  return {
    totalCnt: requested.length,
    successCnt: requested.length - failInfo.length,
    failCnt: failInfo.length,
    failInfo,
  };
}
