/**
 * The web console end to end, in real Chromium (Debian's `chromium` driven by playwright-core) against the real
 * server on a free port: groups, registering by drag and drop, compare, search, the face list. Screenshots go to
 * test-artifacts/console/ (git-ignored). Without /usr/bin/chromium (or $CHROMIUM_PATH) the tests are skipped.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { expectSuccess, startTestApp, type TestApp } from './helpers/http-app.js';
import { dataUrl, gradientImage, portraitAround, samplePhoto, toJpeg, type Box } from './helpers/images.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
const ARTIFACTS = new URL('../test-artifacts/console/', import.meta.url);
const skip = existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM}: apt-get install chromium (.ci/run does) or set CHROMIUM_PATH`;

interface DetectedFace extends Box {
  quality: number;
}

/** A file for the page: its name, mime type and bytes (base64, to cross into the browser). */
interface PageFile {
  name: string;
  mimeType: string;
  base64: string;
}

const jpegFile = (name: string, bytes: Buffer): PageFile => ({ name, mimeType: 'image/jpeg', base64: bytes.toString('base64') });

/** Drops a file on a drop zone the way a person's drag from the desktop does: a `drop` event carrying a File. */
async function dropFile(page: Page, dropZone: string, file: PageFile): Promise<void> {
  const dataTransfer = await page.evaluateHandle(({ name, mimeType, base64 }) => {
    const bytes = Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
    const transfer = new DataTransfer();
    transfer.items.add(new File([bytes], name, { type: mimeType }));
    return transfer;
  }, file);
  await page.dispatchEvent(`[data-testid="drop-${dropZone}"]`, 'drop', { dataTransfer });
}

async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS.pathname, `${name}.png`), fullPage: true });
}

/** The labels of the face boxes drawn on the photos of the page, in order. */
async function boxLabels(page: Page): Promise<string[]> {
  return page.locator('.photo .box').evaluateAll((boxes) => boxes.map((box) => box.getAttribute('data-label') ?? ''));
}

describe('web console in Chromium', { skip }, () => {
  let server: TestApp;
  let context: BrowserContext;
  let page: Page;
  let base: string;
  let profile: string;
  /** sample6.jpg (four people) at 800 px: below the size where detection adds tiles, so each analysis is quick. */
  let sample: Buffer;
  let faces: DetectedFace[] = [];
  const pageErrors: string[] = [];

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    sample = await toJpeg(samplePhoto(6), 800);
    server = await startTestApp();
    await server.app.server.listen({ port: 0, host: '127.0.0.1' });
    const address = server.app.server.server.address();
    assert.ok(address !== null && typeof address === 'object');
    base = `http://127.0.0.1:${address.port}`;
    faces = expectSuccess(await server.call<{ faces: DetectedFace[] }>('POST', '/api/face/detect', { image: dataUrl(sample) })).faces;
    assert.equal(faces.length, 4, 'sample6.jpg shows four people');

    profile = mkdtempSync(join(tmpdir(), 'visage-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      args: CHROMIUM_ARGS,
      headless: true,
      viewport: { width: 1280, height: 860 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      // Chromium logs every 4xx answer; the refusals this test provokes are expected ones.
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) pageErrors.push(message.text());
    });
  });

  after(async () => {
    await context?.close();
    await server?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('serves the console at / from the server itself, and keeps JSON errors for unknown paths', async () => {
    const loaded: string[] = [];
    page.on('request', (request) => loaded.push(request.url()));
    await page.goto(`${base}/#/groups`);
    await page.locator('tr[data-group="default"]').waitFor();
    const foreign = loaded.filter((url) => !url.startsWith(base) && !url.startsWith('data:'));
    assert.deepEqual(foreign, [], 'every asset comes from this server');

    const unknown = await fetch(`${base}/console/missing.js`);
    assert.equal(unknown.status, 404);
    assert.deepEqual(await unknown.json(), { code: 404, msg: 'NOT_FOUND', data: {} });
  });

  it('creates a group and edits its threshold', async () => {
    await page.fill('input[name="groupId"]', 'staff');
    await page.fill('input[name="groupName"]', 'Staff');
    await page.fill('input[name="groupScore"]', '75');
    await page.click('form.create-group button[type="submit"]');
    const row = page.locator('tr[data-group="staff"]');
    await row.waitFor();
    assert.equal(await row.locator('input[aria-label="threshold"]').inputValue(), '75');

    await row.locator('input[aria-label="threshold"]').fill('70');
    await row.locator('button', { hasText: 'Save' }).click();
    await row.locator('button', { hasText: 'Save' }).waitFor({ state: 'detached' });
    const groups = expectSuccess(await server.call<{ faceGroupList: Array<{ groupId: string; groupScore: number }> }>('GET', '/api/faceGroups'));
    assert.equal(groups.faceGroupList.find((group) => group.groupId === 'staff')?.groupScore, 70);
    await screenshot(page, '01-groups');
  });

  it('registers a dropped photo: boxes every face, marks the main one, shows its quality, then the registered box', async () => {
    await page.goto(`${base}/#/register`);
    await page.locator('.chip', { hasText: 'Staff' }).waitFor();
    await dropFile(page, 'the photo to register', jpegFile('Ann.jpg', sample));
    await page.locator('.photo .box.tone-main').waitFor();
    assert.deepEqual(await boxLabels(page), ['main face', '#2', '#3', '#4']);
    const quality = await page.locator('[data-measure="quality"] dd').first().textContent();
    assert.equal(quality, faces[0]!.quality.toFixed(2));
    assert.equal(await page.inputValue('input[name="name"]'), 'Ann');

    await page.locator('.chip', { hasText: 'Staff' }).click();
    await page.click('button:has-text("Register")');
    await page.locator('[data-testid="registered"]').waitFor();
    assert.deepEqual(await boxLabels(page), ['registered: Ann']);
    await screenshot(page, '02-registered');

    const stored = expectSuccess(await server.call<{ totalFaces: number; face: Array<{ name: string; faceToken: string }> }>('GET', '/api/faces'));
    assert.deepEqual(stored.face.map((face) => face.name), ['Ann']);
    const token = await page.locator('[data-testid="registered"] code').first().textContent();
    assert.equal(token, stored.face[0]!.faceToken);
    const detail = expectSuccess(await server.call<{ faceGroupList: Array<{ groupId: string }> }>('GET', `/api/faces/faceToken/${token}`));
    assert.deepEqual(detail.faceGroupList.map((group) => group.groupId).sort(), ['default', 'staff']);
  });

  it('shows the refusal reason of the error envelope', async () => {
    // The same photo again: its imageId is taken.
    await dropFile(page, 'the photo to register', jpegFile('Ann.jpg', sample));
    await page.locator('.photo .box.tone-main').waitFor();
    await page.click('button:has-text("Register")');
    const refusal = page.locator('.refusal [role="alert"]');
    await refusal.waitFor();
    assert.match(String(await refusal.textContent()), /already registered.*104204 FACE_ALREADY_EXIST/);

    // A picture without a face, chosen with the file input instead of dropped.
    await page.setInputFiles('[data-testid="drop-the photo to register"] input[type="file"]', {
      name: 'gradient.png',
      mimeType: 'image/png',
      buffer: await gradientImage(320, 240),
    });
    await page.locator('.detect-summary', { hasText: 'No face found' }).waitFor();
    await page.click('button:has-text("Register")');
    await page.locator('.refusal', { hasText: '104200 FACE_NOT_FOUND' }).waitFor();
    await screenshot(page, '03-refused');
  });

  it('compares two photos: both faces boxed, pose and liveness shown, a same-person score', async () => {
    const portrait = await portraitAround(sample, faces[0]!, 0.8, 400);
    await page.goto(`${base}/#/compare`);
    await dropFile(page, 'first photo', jpegFile('group.jpg', sample));
    await dropFile(page, 'second photo', jpegFile('portrait.jpg', portrait));
    await page.locator('.drop.filled img').nth(1).waitFor();
    await page.click('button:has-text("Compare")');
    const score = page.locator('[data-testid="compare-score"]');
    await score.waitFor();
    const value = Number(await score.locator('b').textContent());
    assert.ok(value >= 80, `the same face scores ${value}`);
    assert.match(String(await score.textContent()), /Same person/);
    assert.deepEqual(await boxLabels(page), ['compared face', 'compared face']);
    // Each side shows the server's own liveness verdict (which face of this group photo is its main one, and so
    // what the model makes of it, is the detector's call; this test is about showing it).
    type Verdict = { livenessScore: number; liveness: boolean };
    const answer = expectSuccess(
      await server.call<{ detectionResult1: Verdict; detectionResult2: Verdict }>('POST', '/api/face/compare', {
        image1: dataUrl(sample),
        image2: dataUrl(portrait),
        livenessEnabled: true,
      }),
    );
    assert.deepEqual(
      (await page.locator('[data-measure="liveness"] dd').allTextContents()).map((text) => text.replace(/^[\d.]+ /, '')),
      [answer.detectionResult1, answer.detectionResult2].map((result) => (result.liveness ? 'live' : 'spoof?')),
    );
    assert.equal(await page.locator('[data-measure="yaw"]').count(), 2);
    await screenshot(page, '04-compare');
  });

  it('searches every face of a photo across the chosen groups, with hit crops and scores', async () => {
    // Three more people of the same photo, registered as portraits through the API.
    for (const [index, name] of [[1, 'Bea'], [2, 'Cal'], [3, 'Dee']] as const) {
      const portrait = await portraitAround(sample, faces[index]!, 0.8, 400);
      expectSuccess(await server.call('POST', '/api/faces', { image: dataUrl(portrait), name, description: '', imageMd5: '', gender: '' }));
    }
    await page.goto(`${base}/#/search`);
    await page.locator('.chip', { hasText: 'Staff' }).waitFor();
    await dropFile(page, 'the photo to search', jpegFile('group.jpg', sample));
    await page.locator('.drop.filled img').waitFor();
    await page.click('button:has-text("Search")');
    await page.waitForFunction(() => document.querySelectorAll('.searched-face').length === 4 && !document.body.textContent?.includes('Searching…'));

    const labels = await boxLabels(page);
    assert.equal(labels.length, 4, 'every face of the photo is boxed');
    assert.deepEqual(
      labels.map((label) => label.replace(/ [\d.]+$/, '')),
      ['#1 Ann', '#2 Bea', '#3 Cal', '#4 Dee'],
    );
    assert.equal(await page.locator('.photo .box.tone-hit').count(), 4);
    const top = page.locator('.searched-face').first().locator('.hit').first();
    assert.equal(await top.locator('.hit-name').textContent(), 'Ann');
    assert.ok(Number(await top.locator('.hit-score').textContent()) >= 99, 'the registered photo itself scores ~100');
    assert.ok(await top.locator('img').evaluate((image: HTMLImageElement) => image.complete && image.naturalWidth > 0), 'the hit crop is shown');
    await screenshot(page, '05-search');

    // Only Ann is in "staff": searching that group alone leaves the others unmatched.
    await page.locator('.chip', { hasText: 'default' }).click();
    await page.click('button:has-text("Search")');
    await page.waitForFunction(() => document.querySelectorAll('.searched-face').length === 4 && !document.body.textContent?.includes('Searching…'));
    assert.deepEqual(
      (await boxLabels(page)).map((label) => label.replace(/ [\d.]+$/, '')),
      ['#1 Ann', '#2 no match', '#3 no match', '#4 no match'],
    );
  });

  it('lists faces with their crops, finds them by name, deletes one', async () => {
    await page.goto(`${base}/#/faces`);
    await page.locator('.face-card').nth(3).waitFor();
    await page.waitForFunction(() => [...document.querySelectorAll<HTMLImageElement>('.face-card .crop img')].filter((image) => image.naturalWidth > 0).length === 4);
    assert.deepEqual(await page.locator('.face-name').allTextContents(), ['Ann', 'Bea', 'Cal', 'Dee']);
    await screenshot(page, '06-faces');

    await page.fill('input[aria-label="Search by name"]', 'de');
    await page.waitForFunction(() => document.querySelectorAll('.face-card').length === 1);
    assert.deepEqual(await page.locator('.face-name').allTextContents(), ['Dee']);
    await page.click('.face-card button:has-text("Delete…")');
    await page.click('.face-card button:has-text("Delete this face")');
    await page.locator('.empty', { hasText: 'No face has a name like that' }).waitFor();
    const stored = expectSuccess(await server.call<{ face: Array<{ name: string }> }>('GET', '/api/faces'));
    assert.deepEqual(stored.face.map((face) => face.name), ['Ann', 'Bea', 'Cal']);

    // A group's own list.
    await page.goto(`${base}/#/faces?group=staff`);
    await page.waitForFunction(() => document.querySelectorAll('.face-card').length === 1);
    assert.deepEqual(await page.locator('.face-name').allTextContents(), ['Ann']);
  });

  it('deletes groups with the mode chosen in plain words; "default" can only be emptied', async () => {
    await page.goto(`${base}/#/groups`);
    await page.locator('tr[data-group="default"] button').click();
    const modes = page.locator('.dialog input[name="delete-mode"]');
    assert.deepEqual(await modes.evaluateAll((inputs) => inputs.map((input) => (input as HTMLInputElement).disabled)), [true, true, false, true]);
    await page.click('.dialog button:has-text("Cancel")');

    await page.locator('tr[data-group="staff"] button:has-text("Delete…")').click();
    await page.locator('.dialog .mode', { hasText: 'Delete the group, keep its faces' }).click();
    await screenshot(page, '07-delete-group');
    await page.click('.dialog button:has-text("Delete group")');
    await page.locator('tr[data-group="staff"]').waitFor({ state: 'detached' });
    const stored = expectSuccess(await server.call<{ totalFaces: number }>('GET', '/api/faces'));
    assert.equal(stored.totalFaces, 3, 'mode 1 keeps the faces');
    assert.deepEqual(pageErrors, [], 'the page logged no errors');
  });
});
