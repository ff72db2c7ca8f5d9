/** Section 2: the group list, creating a group, editing its threshold, deleting it in one of api.md's four modes. */
import { useState } from 'preact/hooks';
import { api, type DeleteMode, type Group } from '../api.js';
import { ErrorNote, onSubmitRun, useAction, useGroups } from '../components.js';

/** api.md 2.3 in plain words. "Other group" includes `default`, where every new face starts. */
export const DELETE_MODES: Array<{ mode: DeleteMode; title: string; text: string; keepsGroup: boolean }> = [
  {
    mode: 1,
    title: 'Delete the group, keep its faces',
    text: 'The faces are only taken out of this group; they stay registered and stay in their other groups.',
    keepsGroup: false,
  },
  {
    mode: 2,
    title: 'Delete the group and every face in it',
    text: 'Each face of this group is deleted everywhere, from all its groups. The original photos stay stored.',
    keepsGroup: false,
  },
  {
    mode: 3,
    title: 'Empty the group, keep the group',
    text: 'All faces are taken out. Faces that were in no other group are deleted (original photos stay). The group stays, empty.',
    keepsGroup: true,
  },
  {
    mode: 4,
    title: 'Delete the group and the faces only it had, with their photos',
    text: 'All faces are taken out. Faces that were in no other group are deleted together with their original photo. The group is deleted.',
    keepsGroup: false,
  },
];

function DeleteDialog(props: { group: Group; onDone: () => void; onCancel: () => void }) {
  const isDefault = props.group.groupId === 'default';
  const [mode, setMode] = useState<DeleteMode>(isDefault ? 3 : 1);
  const { error, busy, run } = useAction();
  const submit = () =>
    run(async () => {
      await api.deleteGroup(props.group.groupId, mode);
      props.onDone();
    });
  return (
    <div class="dialog-backdrop" onClick={props.onCancel}>
      <div class="dialog" role="dialog" aria-label={`Delete group ${props.group.groupId}`} onClick={(event) => event.stopPropagation()}>
        <h3>
          Delete group <code>{props.group.groupId}</code>
        </h3>
        <p class="muted">
          {props.group.groupFaces} face{props.group.groupFaces === 1 ? '' : 's'} in this group. Every face also stays in{' '}
          <code>default</code> unless it was taken out of it, so "no other group" is rare for faces that are still there.
        </p>
        {isDefault && <p class="muted">The group "default" itself can never be deleted; it can only be emptied.</p>}
        <div class="modes">
          {DELETE_MODES.map((option) => (
            <label key={option.mode} class={`mode ${isDefault && !option.keepsGroup ? 'disabled' : ''}`}>
              <input
                type="radio"
                name="delete-mode"
                value={option.mode}
                disabled={isDefault && !option.keepsGroup}
                checked={mode === option.mode}
                onChange={() => setMode(option.mode)}
              />
              <span>
                <b>
                  {option.mode}. {option.title}
                </b>
                <small>{option.text}</small>
              </span>
            </label>
          ))}
        </div>
        {error !== null && <ErrorNote error={error} />}
        <div class="actions">
          <button type="button" onClick={props.onCancel}>
            Cancel
          </button>
          <button type="button" class="danger" disabled={busy} onClick={() => void submit()}>
            {mode === 3 ? 'Empty group' : 'Delete group'}
          </button>
        </div>
      </div>
    </div>
  );
}

function ThresholdEditor(props: { group: Group; onSaved: () => void }) {
  const [value, setValue] = useState(String(props.group.groupScore));
  const { error, run } = useAction();
  const changed = Number(value) !== props.group.groupScore;
  const save = () =>
    run(async () => {
      await api.updateGroup(props.group.groupId, { groupScore: Number(value) });
      props.onSaved();
    });
  return (
    <form class="threshold" onSubmit={onSubmitRun(save)}>
      <input type="number" min={0} max={100} step={1} value={value} aria-label="threshold" onInput={(event) => setValue(event.currentTarget.value)} />
      {changed && <button type="submit">Save</button>}
      {error !== null && <ErrorNote error={error} />}
    </form>
  );
}

function CreateGroup(props: { onCreated: () => void }) {
  const [groupId, setGroupId] = useState('');
  const [groupName, setGroupName] = useState('');
  const [groupType, setGroupType] = useState('');
  const [groupScore, setGroupScore] = useState('80');
  const { error, run } = useAction();
  const submit = () =>
    run(async () => {
      await api.createGroup({ groupId, groupName, groupType, groupScore: Number(groupScore) });
      setGroupId('');
      setGroupName('');
      setGroupType('');
      props.onCreated();
    });
  return (
    <form class="card create-group" onSubmit={onSubmitRun(submit)}>
      <h3>New group</h3>
      <div class="row">
        <label>
          Group id
          <input name="groupId" required maxLength={32} value={groupId} onInput={(event) => setGroupId(event.currentTarget.value)} />
        </label>
        <label>
          Name
          <input name="groupName" maxLength={128} value={groupName} onInput={(event) => setGroupName(event.currentTarget.value)} />
        </label>
        <label>
          Type
          <input name="groupType" maxLength={128} placeholder="e.g. allow list" value={groupType} onInput={(event) => setGroupType(event.currentTarget.value)} />
        </label>
        <label class="narrow">
          Threshold
          <input name="groupScore" type="number" min={0} max={100} value={groupScore} onInput={(event) => setGroupScore(event.currentTarget.value)} />
        </label>
        <button type="submit" class="primary">
          Create
        </button>
      </div>
      <p class="muted">
        The threshold is the score a search hit must reach in this group: 80 means a false match about once in 10,000
        comparisons of different people, 70 once in 1,000, 60 once in 100.
      </p>
      {error !== null && <ErrorNote error={error} />}
    </form>
  );
}

export function GroupsView() {
  const { groups, error, reload } = useGroups();
  const [deleting, setDeleting] = useState<Group | null>(null);
  return (
    <section>
      <CreateGroup onCreated={() => void reload()} />
      {error !== null && <ErrorNote error={error} />}
      <table class="groups">
        <thead>
          <tr>
            <th>Group id</th>
            <th>Name</th>
            <th>Type</th>
            <th>Threshold</th>
            <th class="num">Faces</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {groups.map((group) => (
            <tr key={group.groupId} data-group={group.groupId}>
              <td>
                <code>{group.groupId}</code>
              </td>
              <td>{group.groupName}</td>
              <td>{group.groupType}</td>
              <td>
                <ThresholdEditor key={`${group.groupId}:${group.groupScore}`} group={group} onSaved={() => void reload()} />
              </td>
              <td class="num">
                <a href={`#/faces?group=${encodeURIComponent(group.groupId)}`}>{group.groupFaces}</a>
              </td>
              <td class="actions">
                <button type="button" class="danger subtle" onClick={() => setDeleting(group)}>
                  {group.groupId === 'default' ? 'Empty…' : 'Delete…'}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {deleting && (
        <DeleteDialog
          group={deleting}
          onCancel={() => setDeleting(null)}
          onDone={() => {
            setDeleting(null);
            void reload();
          }}
        />
      )}
    </section>
  );
}
