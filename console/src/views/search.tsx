/**
 * 3.2 for every face of a photo. The extension route finds the faces; the main face is searched with the photo
 * itself (exactly what 3.2 does), every other face with a crop around it, so each one becomes the main face of
 * its own search. Each box then says who it is, and the hits are listed with their stored crops and scores.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, type DetectedFace, type SearchHit } from '../api.js';
import { DropZone, ErrorNote, GroupPicker, Measures, PhotoWithBoxes, useGroups, type FaceBox } from '../components.js';
import { cropAround, type Photo } from '../images.js';

/** Beyond this many faces in one photo, the rest are boxed but not searched. */
const MAX_SEARCHED_FACES = 20;
/** Context around a face for its own search (× the box size on each side) and for its thumbnail. */
const SEARCH_MARGIN = 0.6;
const THUMBNAIL_MARGIN = 0.15;

type FaceResult = { state: 'pending' } | { state: 'done'; hits: SearchHit[] } | { state: 'failed'; error: unknown } | { state: 'skipped' };

interface SearchedFace {
  face: DetectedFace;
  thumbnail: string;
  result: FaceResult;
}

function boxFor(entry: SearchedFace, index: number): FaceBox {
  const number = `#${index + 1}`;
  const { result } = entry;
  if (result.state === 'done' && result.hits[0]) {
    return { box: entry.face, label: `${number} ${result.hits[0].name || 'no name'} ${result.hits[0].searchScore.toFixed(1)}`, tone: 'hit' };
  }
  if (result.state === 'done') return { box: entry.face, label: `${number} no match`, tone: 'miss' };
  return { box: entry.face, label: number, tone: 'other' };
}

function Hits(props: { result: FaceResult }) {
  const { result } = props;
  if (result.state === 'pending') return <p class="muted">Searching…</p>;
  if (result.state === 'skipped') return <p class="muted">Not searched (more than {MAX_SEARCHED_FACES} faces).</p>;
  if (result.state === 'failed') return <ErrorNote error={result.error} />;
  if (result.hits.length === 0) return <p class="muted no-match">No stored face reaches the threshold of the chosen groups.</p>;
  return (
    <ol class="hits">
      {result.hits.map((hit) => (
        <li key={hit.faceToken} class="hit" data-face-token={hit.faceToken}>
          <img src={hit.imageUrl} alt={`stored face of ${hit.name || 'unnamed'}`} />
          <span class="hit-name">{hit.name || <i class="muted">no name</i>}</span>
          <span class="hit-score">{hit.searchScore.toFixed(1)}</span>
          <span class="tags">
            {hit.group.map(({ groupId }) => (
              <span key={groupId} class="tag">
                {groupId}
              </span>
            ))}
          </span>
        </li>
      ))}
    </ol>
  );
}

export function SearchView() {
  const { groups } = useGroups();
  const [chosen, setChosen] = useState<string[]>([]);
  const [topN, setTopN] = useState(3);
  const [liveness, setLiveness] = useState(false);
  const [photo, setPhoto] = useState<Photo | null>(null);
  const [faces, setFaces] = useState<SearchedFace[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [selected, setSelected] = useState<number | undefined>(undefined);

  // All groups are searched until the person narrows the choice.
  useEffect(() => {
    if (chosen.length === 0) setChosen(groups.map((group) => group.groupId));
  }, [groups]);

  const search = async () => {
    if (!photo || chosen.length === 0) return;
    setBusy(true);
    setError(null);
    setFaces(null);
    try {
      const found = await api.detect(photo.dataUrl, liveness);
      const entries: SearchedFace[] = await Promise.all(
        found.map(async (face, index) => ({
          face,
          thumbnail: await cropAround(photo, face, THUMBNAIL_MARGIN),
          result: index < MAX_SEARCHED_FACES ? { state: 'pending' } : { state: 'skipped' },
        })),
      );
      setFaces(entries);
      for (const [index, entry] of entries.entries()) {
        if (entry.result.state !== 'pending') continue;
        let result: FaceResult;
        try {
          const image = index === 0 ? photo.dataUrl : await cropAround(photo, entry.face, SEARCH_MARGIN);
          result = { state: 'done', hits: (await api.search(image, chosen, topN, liveness)).hits };
        } catch (failure) {
          result = { state: 'failed', error: failure };
        }
        entries[index] = { ...entry, result };
        setFaces([...entries]);
      }
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section>
      <div class="toolbar">
        <GroupPicker groups={groups} chosen={chosen} onChange={setChosen} />
        <label>
          Top
          <select value={topN} onChange={(event) => setTopN(Number(event.currentTarget.value))}>
            {[1, 2, 3, 4, 5].map((count) => (
              <option key={count} value={count}>
                {count}
              </option>
            ))}
          </select>
        </label>
        <label class="check">
          <input type="checkbox" checked={liveness} onChange={(event) => setLiveness(event.currentTarget.checked)} /> check liveness
        </label>
        <button type="button" class="primary" disabled={!photo || chosen.length === 0 || busy} onClick={() => void search()}>
          {busy ? 'Searching…' : 'Search'}
        </button>
      </div>
      {error !== null && <ErrorNote error={error} />}
      <div class="two-columns wide-left">
        <DropZone
          label="the photo to search"
          photo={photo}
          onPhoto={(dropped) => {
            setPhoto(dropped);
            setFaces(null);
            setError(null);
          }}
        >
          {photo && <PhotoWithBoxes src={photo.dataUrl} boxes={(faces ?? []).map(boxFor)} selected={selected} onSelect={setSelected} />}
        </DropZone>
        <div class="results">
          {faces !== null && faces.length === 0 && <p class="empty">No face found in this photo.</p>}
          {faces?.map((entry, index) => (
            <article
              key={index}
              class={`searched-face ${selected === index ? 'selected' : ''}`}
              data-face-index={index}
              onMouseEnter={() => setSelected(index)}
            >
              <header>
                <img src={entry.thumbnail} alt={`face #${index + 1} of the photo`} />
                <div>
                  <b>
                    Face #{index + 1}
                    {index === 0 ? ' · main face' : ''}
                  </b>
                  <Measures face={entry.face} compact />
                </div>
              </header>
              <Hits result={entry.result} />
            </article>
          ))}
        </div>
      </div>
    </section>
  );
}
