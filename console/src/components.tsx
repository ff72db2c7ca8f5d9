/** Pieces every view uses: the photo drop zone, a photo with face boxes, face measures, error notes, group choice. */
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, type Box, type DetectionResult, type Group } from './api.js';
import { explain } from './explain.js';
import { readPhoto, type Photo } from './images.js';

export function DropZone(props: { label: string; photo: Photo | null; onPhoto: (photo: Photo) => void; children?: ComponentChildren }) {
  const [over, setOver] = useState(false);
  const take = async (files: FileList | null | undefined) => {
    const file = files?.[0];
    if (file) props.onPhoto(await readPhoto(file));
  };
  return (
    <div
      class={`drop ${over ? 'over' : ''} ${props.photo ? 'filled' : ''}`}
      data-testid={`drop-${props.label}`}
      onDragOver={(event) => {
        event.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={(event) => {
        event.preventDefault();
        setOver(false);
        void take(event.dataTransfer?.files);
      }}
    >
      {props.children}
      <label class="drop-hint">
        <input type="file" accept="image/jpeg,image/png,image/bmp,image/webp" onChange={(event) => void take(event.currentTarget.files)} />
        {props.photo ? (
          <span>
            <b>{props.photo.name}</b> · drop another photo or <u>choose a file</u>
          </span>
        ) : (
          <span>
            Drop a photo here or <u>choose a file</u>
            <small>{props.label}</small>
          </span>
        )}
      </label>
    </div>
  );
}

export type BoxTone = 'main' | 'other' | 'hit' | 'miss';

export interface FaceBox {
  box: Box;
  label: string;
  tone: BoxTone;
}

/** The photo at its aspect ratio with each box placed in percent of the image, so it scales with the layout. */
export function PhotoWithBoxes(props: { src: string; boxes: FaceBox[]; selected?: number; onSelect?: (index: number) => void }) {
  const [size, setSize] = useState<{ width: number; height: number } | null>(null);
  return (
    <div class="photo">
      <img
        src={props.src}
        alt=""
        onLoad={(event) => setSize({ width: event.currentTarget.naturalWidth, height: event.currentTarget.naturalHeight })}
      />
      {size &&
        props.boxes.map(({ box, label, tone }, index) => (
          <div
            key={index}
            class={`box tone-${tone} ${props.selected === index ? 'selected' : ''}`}
            data-label={label}
            onClick={() => props.onSelect?.(index)}
            style={{
              left: `${(100 * box.left) / size.width}%`,
              top: `${(100 * box.top) / size.height}%`,
              width: `${(100 * (box.right - box.left)) / size.width}%`,
              height: `${(100 * (box.bottom - box.top)) / size.height}%`,
            }}
          >
            <span>{label}</span>
          </div>
        ))}
    </div>
  );
}

const fixed = (value: number, digits: number) => value.toFixed(digits);

/** Pose, blur, quality (and liveness, and the gate's measures when known) of one face. */
export function Measures(props: { face: DetectionResult & Partial<Record<'brightness' | 'contrast' | 'faceSize', number>>; compact?: boolean }) {
  const { face } = props;
  const full = props.compact !== true;
  const rows: Array<[string, string, string]> = [
    ['yaw', `${face.yaw}°`, 'left–right turn'],
    ['pitch', `${face.pitch}°`, 'up–down tilt'],
    ['roll', `${face.roll}°`, 'sideways tilt'],
    ...(full ? [['blur', fixed(face.blurness, 1), '0 sharp … 100 blurry'] as [string, string, string]] : []),
    ['quality', fixed(face.quality, 2), '0 … 1'],
  ];
  if (full && face.brightness !== undefined) rows.push(['brightness', fixed(face.brightness, 0), 'mean face luma 0 … 255']);
  if (full && face.contrast !== undefined) rows.push(['contrast', fixed(face.contrast, 1), 'luma spread']);
  if (full && face.faceSize !== undefined) rows.push(['face size', `${Math.round(face.faceSize)} px`, 'shorter side of the box']);
  if (face.livenessScore !== undefined) {
    const verdict = face.liveness === undefined ? '' : face.liveness ? ' live' : ' spoof?';
    rows.push(['liveness', `${fixed(face.livenessScore, 1)}${verdict}`, '0 photo attack … 50 equal-error point … 100 live']);
  }
  return (
    <dl class="measures">
      {rows.map(([name, value, hint]) => (
        <div key={name} title={hint} data-measure={name}>
          <dt>{name}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

/** A refusal: the plain-words reason, the raw `code`/`msg` of the envelope, and what its `data` carried. */
export function ErrorNote(props: { error: unknown }) {
  const { error } = props;
  const envelope = error as { code?: number; msg?: string; data?: Record<string, unknown> };
  const details = Object.entries(envelope.data ?? {});
  return (
    <div class="error" role="alert">
      <p>{explain(error)}</p>
      {envelope.code !== undefined && (
        <code>
          {envelope.code} {envelope.msg}
        </code>
      )}
      {details.length > 0 && (
        <dl class="measures">
          {details.map(([key, value]) => (
            <div key={key}>
              <dt>{key}</dt>
              <dd>{typeof value === 'number' ? fixed(value, Number.isInteger(value) ? 0 : 1) : String(value)}</dd>
            </div>
          ))}
        </dl>
      )}
    </div>
  );
}

export function GroupPicker(props: { groups: Group[]; chosen: string[]; onChange: (chosen: string[]) => void }) {
  return (
    <fieldset class="groups-picker">
      <legend>Groups</legend>
      {props.groups.map((group) => (
        <label key={group.groupId} class="chip">
          <input
            type="checkbox"
            value={group.groupId}
            checked={props.chosen.includes(group.groupId)}
            onChange={(event) =>
              props.onChange(
                event.currentTarget.checked ? [...props.chosen, group.groupId] : props.chosen.filter((id) => id !== group.groupId),
              )
            }
          />
          {group.groupName || group.groupId}
          <small>≥ {group.groupScore}</small>
        </label>
      ))}
    </fieldset>
  );
}

/** A user action: `busy` while it runs; its failure kept in `error` (for an ErrorNote) until an attempt succeeds. */
export function useAction(): { error: unknown; busy: boolean; run: (work: () => Promise<void>) => Promise<void> } {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const run = async (work: () => Promise<void>) => {
    setBusy(true);
    try {
      await work();
      setError(null);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  return { error, busy, run };
}

/** A form's submit handler: the page stays, `action` runs. */
export const onSubmitRun = (action: () => Promise<void>) => (event: Event) => {
  event.preventDefault();
  void action();
};

/** Reads the group list when a view opens; `reload` after a change. */
export function useGroups(): { groups: Group[]; error: unknown; reload: () => Promise<void> } {
  const [groups, setGroups] = useState<Group[]>([]);
  const { error, run } = useAction();
  const reload = () => run(async () => setGroups(await api.groups()));
  useEffect(() => void reload(), []);
  return { groups, error, reload };
}
