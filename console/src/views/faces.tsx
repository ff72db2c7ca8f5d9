/**
 * Section 1: the stored faces, page by page, with their crops; a search by name; deleting a face.
 * The API has no name filter, so a name search reads the whole list (1000 rows per request) and filters here.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, MAX_PAGE_SIZE, type FaceDetail, type FacePage, type FaceRow } from '../api.js';
import { ErrorNote, useGroups } from '../components.js';

const PAGE_SIZE = 24;

function readPage(groupId: string, offset: number, size: number): Promise<FacePage> {
  return groupId === '' ? api.listFaces(offset, size) : api.groupFaces(groupId, offset, size);
}

/** Every row of the list whose name contains `query` (case-insensitive). */
async function findByName(groupId: string, query: string): Promise<FaceRow[]> {
  const needle = query.toLocaleLowerCase();
  const found: FaceRow[] = [];
  for (let offset = 0; ; offset += MAX_PAGE_SIZE) {
    const page = await readPage(groupId, offset, MAX_PAGE_SIZE);
    found.push(...page.face.filter((face) => face.name.toLocaleLowerCase().includes(needle)));
    if (page.face.length < MAX_PAGE_SIZE || offset + MAX_PAGE_SIZE >= page.totalFaces) return found;
  }
}

function FaceCard(props: { face: FaceRow; onDeleted: () => void }) {
  const { face } = props;
  const [detail, setDetail] = useState<FaceDetail | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [confirming, setConfirming] = useState(false);
  useEffect(() => {
    api.face(face.faceToken).then(setDetail, setError);
  }, [face.faceToken]);
  const remove = async () => {
    try {
      await api.deleteFace(face.faceToken);
      props.onDeleted();
    } catch (failure) {
      setError(failure);
    }
  };
  return (
    <article class="face-card" data-face-token={face.faceToken}>
      <div class="crop">{detail ? <img src={detail.image} alt={`face of ${face.name || 'unnamed'}`} /> : <span class="placeholder" />}</div>
      <div class="face-info">
        <b class="face-name">{face.name || <i class="muted">no name</i>}</b>
        {face.gender && <span class="muted"> · {face.gender}</span>}
        {face.description && <p class="muted small">{face.description}</p>}
        <p class="tags">
          {detail?.faceGroupList.map(({ groupId }) => (
            <span key={groupId} class="tag">
              {groupId}
            </span>
          ))}
        </p>
        <code class="token" title="faceToken">
          {face.faceToken}
        </code>
      </div>
      {error !== null && <ErrorNote error={error} />}
      <div class="card-actions">
        {confirming ? (
          <>
            <button type="button" class="danger" onClick={() => void remove()}>
              Delete this face
            </button>
            <button type="button" onClick={() => setConfirming(false)}>
              Keep
            </button>
          </>
        ) : (
          <button type="button" class="danger subtle" onClick={() => setConfirming(true)}>
            Delete…
          </button>
        )}
      </div>
    </article>
  );
}

export function FacesView(props: { group: string }) {
  const { groups } = useGroups();
  const [groupId, setGroupId] = useState(props.group);
  const [query, setQuery] = useState('');
  const [offset, setOffset] = useState(0);
  const [rows, setRows] = useState<FaceRow[]>([]);
  const [total, setTotal] = useState(0);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(false);
  const [version, setVersion] = useState(0);

  useEffect(() => {
    let current = true;
    setLoading(true);
    const load = async () => {
      if (query.trim() === '') {
        const page = await readPage(groupId, offset, PAGE_SIZE);
        return { rows: page.face, total: page.totalFaces };
      }
      const found = await findByName(groupId, query.trim());
      return { rows: found.slice(offset, offset + PAGE_SIZE), total: found.length };
    };
    load().then(
      (result) => {
        if (!current) return;
        setRows(result.rows);
        setTotal(result.total);
        setError(null);
        setLoading(false);
      },
      (failure: unknown) => {
        if (!current) return;
        setError(failure);
        setLoading(false);
      },
    );
    return () => {
      current = false;
    };
  }, [groupId, query, offset, version]);

  const last = Math.min(offset + PAGE_SIZE, total);
  return (
    <section>
      <div class="toolbar">
        <label>
          Show
          <select
            value={groupId}
            onChange={(event) => {
              setGroupId(event.currentTarget.value);
              setOffset(0);
            }}
          >
            <option value="">all faces</option>
            {groups.map((group) => (
              <option key={group.groupId} value={group.groupId}>
                group {group.groupName || group.groupId}
              </option>
            ))}
          </select>
        </label>
        <input
          type="search"
          placeholder="Search by name"
          aria-label="Search by name"
          value={query}
          onInput={(event) => {
            setQuery(event.currentTarget.value);
            setOffset(0);
          }}
        />
        <span class="muted count">
          {loading ? 'Loading…' : total === 0 ? 'No faces' : `${offset + 1}–${last} of ${total}${query.trim() ? ` named like "${query.trim()}"` : ''}`}
        </span>
        <span class="pager">
          <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE_SIZE))}>
            ← Previous
          </button>
          <button type="button" disabled={last >= total} onClick={() => setOffset(offset + PAGE_SIZE)}>
            Next →
          </button>
        </span>
      </div>
      {error !== null && <ErrorNote error={error} />}
      {!loading && total === 0 && error === null && (
        <p class="empty">
          {query.trim() ? 'No face has a name like that.' : <>Nothing here yet. <a href="#/register">Register a face</a>.</>}
        </p>
      )}
      <div class="face-grid">
        {rows.map((face) => (
          <FaceCard key={face.faceToken} face={face} onDeleted={() => setVersion(version + 1)} />
        ))}
      </div>
    </section>
  );
}
