/**
 * 1.1 by drag and drop. Dropping a photo first shows every face the server finds (the extension route), the main
 * one marked: registration always takes that one. Then 1.1 registers it, and 2.5 adds it to the chosen groups.
 */
import { useState } from 'preact/hooks';
import { api, type BindingResult, type DetectedFace, type Registered } from '../api.js';
import { DropZone, ErrorNote, GroupPicker, Measures, onSubmitRun, PhotoWithBoxes, useGroups, type FaceBox } from '../components.js';
import type { Photo } from '../images.js';

type Outcome = { registered: Registered; binding: BindingResult | null } | { error: unknown };

function nameFromFile(fileName: string): string {
  return fileName.replace(/\.[^.]*$/, '').replace(/[_-]+/g, ' ');
}

export function RegisterView() {
  const { groups } = useGroups();
  const [photo, setPhoto] = useState<Photo | null>(null);
  const [faces, setFaces] = useState<DetectedFace[] | null>(null);
  const [detectError, setDetectError] = useState<unknown>(null);
  const [name, setName] = useState('');
  const [gender, setGender] = useState('');
  const [description, setDescription] = useState('');
  const [extraGroups, setExtraGroups] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome | null>(null);

  const take = async (dropped: Photo) => {
    setPhoto(dropped);
    setFaces(null);
    setDetectError(null);
    setOutcome(null);
    if (name === '') setName(nameFromFile(dropped.name));
    if (description === '') setDescription(dropped.name);
    try {
      setFaces(await api.detect(dropped.dataUrl, false));
    } catch (failure) {
      setDetectError(failure);
    }
  };

  const register = async () => {
    if (!photo) return;
    setBusy(true);
    try {
      const registered = await api.register({ image: photo.dataUrl, name, gender, description });
      const binding = extraGroups.length > 0 ? await api.bind(registered.faceToken, extraGroups) : null;
      setOutcome({ registered, binding });
    } catch (failure) {
      setOutcome({ error: failure });
    } finally {
      setBusy(false);
    }
  };

  const registered = outcome && 'registered' in outcome ? outcome.registered : null;
  const boxes: FaceBox[] = registered
    ? [{ box: registered.rect, label: `registered: ${name || 'no name'}`, tone: 'hit' }]
    : (faces ?? []).map((face, index) => ({
        box: face,
        label: index === 0 ? 'main face' : `#${index + 1}`,
        tone: index === 0 ? 'main' : 'other',
      }));
  const main = faces?.[0];

  return (
    <section class="two-columns">
      <div>
        <DropZone label="the photo to register" photo={photo} onPhoto={(dropped) => void take(dropped)}>
          {photo && <PhotoWithBoxes src={photo.dataUrl} boxes={boxes} />}
        </DropZone>
        {faces !== null && (
          <p class="muted small detect-summary">
            {faces.length === 0
              ? 'No face found in this photo.'
              : `${faces.length} face${faces.length === 1 ? '' : 's'} found; the main face (largest, most central) is the one registered.`}
          </p>
        )}
        {detectError !== null && <ErrorNote error={detectError} />}
      </div>
      <div>
        <form class="card" onSubmit={onSubmitRun(register)}>
          <h3>Register a face</h3>
          <label>
            Name
            <input name="name" maxLength={128} value={name} onInput={(event) => setName(event.currentTarget.value)} />
          </label>
          <div class="row">
            <label>
              Gender
              <input name="gender" maxLength={16} value={gender} onInput={(event) => setGender(event.currentTarget.value)} />
            </label>
            <label>
              Description
              <input name="description" maxLength={255} value={description} onInput={(event) => setDescription(event.currentTarget.value)} />
            </label>
          </div>
          <GroupPicker groups={groups.filter((group) => group.groupId !== 'default')} chosen={extraGroups} onChange={setExtraGroups} />
          <p class="muted small">Every new face is in "default"; tick other groups to add it to them as well.</p>
          <button type="submit" class="primary" disabled={!photo || busy}>
            {busy ? 'Registering…' : 'Register'}
          </button>
        </form>
        {main && !registered && (
          <div class="card">
            <h4>Main face</h4>
            <Measures face={main} />
          </div>
        )}
        {outcome && 'error' in outcome && (
          <div class="card refusal">
            <h4>Refused</h4>
            <ErrorNote error={outcome.error} />
          </div>
        )}
        {registered && (
          <div class="card success" data-testid="registered">
            <h4>Registered</h4>
            <dl class="facts">
              <dt>faceToken</dt>
              <dd>
                <code>{registered.faceToken}</code>
              </dd>
              <dt>imageId</dt>
              <dd>
                <code>{registered.imageId}</code>
              </dd>
              <dt>box</dt>
              <dd>
                {registered.rect.left}, {registered.rect.top} → {registered.rect.right}, {registered.rect.bottom}
              </dd>
              <dt>groups</dt>
              <dd>
                default
                {outcome && 'binding' in outcome && outcome.binding
                  ? `, ${extraGroups.filter((id) => !outcome.binding?.failInfo.some((fail) => fail.groupId === id)).join(', ')}`
                  : ''}
              </dd>
            </dl>
            {main && <Measures face={main} />}
          </div>
        )}
      </div>
    </section>
  );
}
