/** 3.1: two photos, their main faces boxed with pose, blur, quality and liveness, and the calibrated score. */
import { useState } from 'preact/hooks';
import { api, type Compared, type DetectionResult } from '../api.js';
import { DropZone, ErrorNote, Measures, PhotoWithBoxes } from '../components.js';
import type { Photo } from '../images.js';

/** What a score means on the calibrated scale (README: 80 ≙ false-accept rate 1e-4, 70 ≙ 1e-3, 60 ≙ 1e-2). */
export function verdict(score: number): { tone: 'same' | 'maybe' | 'different'; text: string } {
  if (score >= 80) return { tone: 'same', text: 'Same person: two different people score this high about once in 10,000 comparisons or less.' };
  if (score >= 70) return { tone: 'maybe', text: 'Probably the same person: different people reach 70 about once in 1,000 comparisons.' };
  return { tone: 'different', text: 'Not the same person at the usual threshold of 80.' };
}

function Side(props: { label: string; photo: Photo | null; face: DetectionResult | undefined; onPhoto: (photo: Photo) => void }) {
  return (
    <div>
      <DropZone label={props.label} photo={props.photo} onPhoto={props.onPhoto}>
        {props.photo && (
          <PhotoWithBoxes src={props.photo.dataUrl} boxes={props.face ? [{ box: props.face, label: 'compared face', tone: 'main' }] : []} />
        )}
      </DropZone>
      {props.face && <Measures face={props.face} />}
    </div>
  );
}

export function CompareView() {
  const [first, setFirst] = useState<Photo | null>(null);
  const [second, setSecond] = useState<Photo | null>(null);
  const [liveness, setLiveness] = useState(true);
  const [result, setResult] = useState<Compared | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const take = (set: (photo: Photo) => void) => (photo: Photo) => {
    set(photo);
    setResult(null);
    setError(null);
  };
  const compare = async () => {
    if (!first || !second) return;
    setBusy(true);
    try {
      setResult(await api.compare(first.dataUrl, second.dataUrl, liveness));
      setError(null);
    } catch (failure) {
      setResult(null);
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  const meaning = result ? verdict(result.compareScore) : null;

  return (
    <section>
      <div class="toolbar">
        <label class="check">
          <input type="checkbox" checked={liveness} onChange={(event) => setLiveness(event.currentTarget.checked)} /> check liveness
        </label>
        <button type="button" class="primary" disabled={!first || !second || busy} onClick={() => void compare()}>
          {busy ? 'Comparing…' : 'Compare'}
        </button>
        {result && meaning && (
          <div class={`score ${meaning.tone}`} data-testid="compare-score">
            <b>{result.compareScore.toFixed(1)}</b>
            <span>{meaning.text}</span>
          </div>
        )}
      </div>
      {error !== null && <ErrorNote error={error} />}
      <div class="two-columns">
        <Side label="first photo" photo={first} face={result?.detectionResult1} onPhoto={take(setFirst)} />
        <Side label="second photo" photo={second} face={result?.detectionResult2} onPhoto={take(setSecond)} />
      </div>
    </section>
  );
}
