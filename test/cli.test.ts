import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import type { ImportSummary } from '../src/cli/import-summary.js';
import type { Envelope } from '../src/http/envelope.js';
import { ALLOCATOR_ENV, MAIN_HEAP_FLAG } from '../src/config.js';
import { runVisage, serveVisage, VISAGE_BIN, type ServingVisage } from './helpers/cli.js';
import { computedImageId, gradientImage, samplePhoto, toJpeg } from './helpers/images.js';

const INSTALLED_MODELS = fileURLToPath(new URL('../models', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'visage-cli-test-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

async function api<Data extends object>(server: ServingVisage, method: string, path: string, body?: unknown): Promise<Envelope<Data>> {
  const reply = await fetch(`${server.url}${path}`, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  return (await reply.json()) as Envelope<Data>;
}

interface GroupPage {
  totalFaces: number;
  face: Array<{ imageId: string; faceToken: string; name: string; description: string }>;
}

describe('visage (the command line)', () => {
  let server: ServingVisage;
  before(async () => {
    server = await serveVisage({ VISAGE_DATA: join(scratch, 'served') });
  });
  after(async () => {
    if (server.child.exitCode === null) await server.stop();
  });

  it('lists its commands and refuses an unknown one with exit code 1', async () => {
    const help = await runVisage(['--help']);
    assert.equal(help.exitCode, 0);
    for (const command of ['serve', 'import']) assert.match(help.stdout, new RegExp(`^  ${command}\\b`, 'm'));
    const unknown = await runVisage(['frobnicate']);
    assert.equal(unknown.exitCode, 1);
    assert.match(unknown.stderr, /unknown command 'frobnicate'/);
  });

  describe('import', () => {
    const photos = join(scratch, 'photos');
    const importArgs = () => ['import', photos, '--group', 'staff', '--name-from-folder', '--server', server.url, '--json'];
    let alice: Buffer;
    let bob: Buffer;
    let carol: Buffer;

    before(async () => {
      [alice, bob, carol] = await Promise.all([toJpeg(samplePhoto(1), 800), toJpeg(samplePhoto(3), 800), toJpeg(samplePhoto(4), 800)]);
      mkdirSync(join(photos, 'Alice'), { recursive: true });
      mkdirSync(join(photos, 'Bob'), { recursive: true });
      writeFileSync(join(photos, 'Alice', 'one.jpg'), alice);
      writeFileSync(join(photos, 'Bob', 'one.jpg'), bob);
      writeFileSync(join(photos, 'Bob', 'same-as-alice.jpg'), alice); // a copy: same imageId
      writeFileSync(join(photos, 'Bob', 'cut-short.jpg'), bob.subarray(0, 4000)); // truncated JPEG
      writeFileSync(join(photos, 'wall.png'), await gradientImage(300, 200)); // no face
      writeFileSync(join(photos, 'notes.txt'), 'not a photo');
    });

    it('registers every photo, binds it to the group (created), names it after its folder and reports the refusals by reason', async () => {
      const run = await runVisage(importArgs());
      assert.equal(run.exitCode, 2, run.stderr); // 2: finished, some refused
      const summary = JSON.parse(run.stdout) as ImportSummary;
      assert.deepEqual(
        { ...summary, seconds: 0 },
        {
          seconds: 0,
          files: 5,
          imported: 2,
          skipped: 0,
          duplicates: 1,
          refused: 2,
          ignored: 1,
          refusals: [
            { reason: 'FACE_NOT_FOUND', code: 104200, files: ['wall.png'] },
            { reason: 'IMAGE_INVALID:CORRUPT', code: 104202, files: ['Bob/cut-short.jpg'] },
          ],
        },
      );
      const group = await api<GroupPage>(server, 'GET', '/api/faceGroups/staff?pageSize=100');
      assert.equal(group.code, 0);
      const members = group.data.face.map(({ imageId, name, description }) => ({ imageId, name, description }));
      assert.deepEqual(
        members.sort((a, b) => a.description.localeCompare(b.description)),
        [
          { imageId: computedImageId(alice), name: 'Alice', description: 'Alice/one.jpg' },
          { imageId: computedImageId(bob), name: 'Bob', description: 'Bob/one.jpg' },
        ],
      );
    });

    it('resumes: a re-run skips what is registered, binds what a stopped run left unbound, imports what is new', async () => {
      // A run stopped between registration (1.1, bound to `default`) and binding (2.5) leaves this state.
      const registered = await api<{ faceToken: string }>(server, 'POST', '/api/faces', {
        image: carol.toString('base64'), description: 'Carol/one.jpg', imageMd5: '', name: 'Carol', gender: '',
      });
      assert.equal(registered.code, 0);
      mkdirSync(join(photos, 'Carol'));
      writeFileSync(join(photos, 'Carol', 'one.jpg'), carol);
      writeFileSync(join(photos, 'Carol', 'two.jpg'), await toJpeg(samplePhoto(5), 800));

      const run = await runVisage(importArgs());
      assert.equal(run.exitCode, 2, run.stderr);
      const summary = JSON.parse(run.stdout) as ImportSummary;
      assert.deepEqual(
        { imported: summary.imported, skipped: summary.skipped, duplicates: summary.duplicates, refused: summary.refused },
        { imported: 1, skipped: 3, duplicates: 1, refused: 2 },
      );
      const group = await api<GroupPage>(server, 'GET', '/api/faceGroups/staff?pageSize=100');
      assert.deepEqual(group.data.face.map((face) => face.description).sort(), ['Alice/one.jpg', 'Bob/one.jpg', 'Carol/one.jpg', 'Carol/two.jpg']);
      const all = await api<{ totalFaces: number }>(server, 'GET', '/api/faces');
      assert.equal(all.data.totalFaces, 4, 'nothing registered twice');
    });

    it('fails with exit code 1 and a clear message when no server answers', async () => {
      const run = await runVisage(['import', photos, '--group', 'staff', '--server', 'http://127.0.0.1:9']);
      assert.equal(run.exitCode, 1);
      assert.match(run.stderr, /cannot reach the Visage server at http:\/\/127\.0\.0\.1:9/);
    });
  });

  describe('export and restore', () => {
    const archive = join(scratch, 'library.tar.gz');
    const restoredDir = join(scratch, 'restored');
    interface SearchHit { faceToken: string; searchScore: number; name: string; group: Array<{ groupId: string }> }
    const search = async (target: ServingVisage, photo: Buffer) => {
      const reply = await api<Record<string, SearchHit | object>>(target, 'POST', '/api/face/search', {
        image: photo.toString('base64'), group: ['default', 'staff'], topN: 5, livenessEnabled: false, featureUpload: false,
      });
      assert.equal(reply.code, 0, reply.msg);
      return ['top1', 'top2', 'top3', 'top4', 'top5'].map((key) => reply.data[key]);
    };
    /** Everything a client can read about the library, for comparing two servers. */
    const snapshot = async (target: ServingVisage) => {
      const groups = await api<{ faceGroupList: object[] }>(target, 'GET', '/api/faceGroups');
      const faces = await api<{ face: Array<{ faceToken: string; imageId: string }> }>(target, 'GET', '/api/faces?pageSize=100');
      const details = [];
      for (const face of faces.data.face) {
        details.push((await api(target, 'GET', `/api/faces/faceToken/${face.faceToken}`)).data);
        details.push((await api(target, 'GET', `/api/faces/image/${face.imageId}`)).data);
      }
      return { groups: groups.data, faces: faces.data, details };
    };

    it('restores a whole library into an empty one: same groups, faces, images and crops, identical search scores', async () => {
      // Beyond what the imports made: a threshold, a face bound to two groups, a faceless image (1.3 keeps it).
      assert.equal((await api(server, 'PUT', '/api/faceGroups', { groupId: 'staff', groupScore: 70 })).code, 0);
      assert.equal((await api(server, 'PUT', '/api/faceGroups', { groupId: 'default', groupScore: 75 })).code, 0);
      const faceless = await api<{ faceToken: string; imageId: string }>(server, 'POST', '/api/faces', {
        image: (await toJpeg(samplePhoto(6), 800)).toString('base64'), description: 'to be deleted', imageMd5: 'kept-image-id', name: '', gender: '',
      });
      assert.equal(faceless.code, 0, faceless.msg);
      assert.equal((await api(server, 'DELETE', `/api/faces/${faceless.data.faceToken}`)).code, 0);

      const exported = await runVisage(['export', archive], { VISAGE_DATA: join(scratch, 'served') });
      assert.equal(exported.exitCode, 0, exported.stderr);
      assert.match(exported.stdout, /exported 2 group\(s\), 5 image\(s\), 4 face\(s\)/);
      const restored = await runVisage(['restore', archive], { VISAGE_DATA: restoredDir });
      assert.equal(restored.exitCode, 0, restored.stderr);

      const copy = await serveVisage({ VISAGE_DATA: restoredDir });
      try {
        assert.deepEqual(await snapshot(copy), await snapshot(server));
        const faceless = await api<{ faceToken: string[] }>(copy, 'GET', '/api/faces/image/kept-image-id');
        assert.deepEqual(faceless.data.faceToken, []);
        for (const photo of await Promise.all([toJpeg(samplePhoto(1), 800), toJpeg(samplePhoto(4), 800)])) {
          const [original, fromRestore] = [await search(server, photo), await search(copy, photo)];
          assert.ok('searchScore' in original[0]!, 'the enrolled photo is found');
          assert.deepEqual(fromRestore, original);
        }
      } finally {
        await copy.stop();
      }
    });

    it('running a restore again finishes it (here: nothing left to do), and a damaged archive writes nothing', async () => {
      const again = await runVisage(['restore', archive], { VISAGE_DATA: restoredDir });
      assert.equal(again.exitCode, 0, again.stderr);
      assert.match(again.stdout, /restored 2 group\(s\), 0 image\(s\), 0 face\(s\) .*; 5 image\(s\) were already there/);

      const tar = gunzipSync(readFileSync(archive));
      const emptyDir = join(scratch, 'never-written');
      const restoreDamaged = async (name: string, bytes: Buffer, expected: RegExp) => {
        const file = join(scratch, name);
        writeFileSync(file, bytes);
        const run = await runVisage(['restore', file], { VISAGE_DATA: emptyDir });
        assert.equal(run.exitCode, 1);
        assert.match(run.stderr, expected);
        assert.equal(existsSync(emptyDir), false);
      };
      await restoreDamaged('truncated.tar', tar.subarray(0, Math.floor(tar.length * 0.8)), /truncated\.tar is damaged/);
      // One byte changed midway, inside the third image's original (tar checks only its headers) …
      const header = tar.indexOf('images/00000003/original.');
      assert.ok(header > 0 && header % 512 === 0);
      const flipped = Buffer.from(tar);
      flipped[header + 512 + 100]! ^= 0xff;
      await restoreDamaged('flipped.tar', flipped, /images\/00000003\/original\.\w+ does not match its SHA-256/);
      // … or in the header of the entry before it.
      const broken = Buffer.from(tar);
      broken[tar.indexOf('images/00000003/image.json') + 1]! ^= 0xff;
      await restoreDamaged('broken-header.tar', broken, /broken-header\.tar is damaged/);
    });
  });

  describe('doctor', () => {
    interface Check { status: 'OK' | 'WARN' | 'FAIL'; subject: string; detail: string }
    const doctor = async (env: NodeJS.ProcessEnv) => {
      const run = await runVisage(['doctor', '--json'], env);
      return { exitCode: run.exitCode, checks: JSON.parse(run.stdout) as Check[] };
    };
    const statusOf = (checks: Check[]) => Object.fromEntries(checks.map((check) => [check.subject, check.status]));

    it('passes on a healthy install and library, reporting its contents', async () => {
      const { exitCode, checks } = await doctor({ VISAGE_DATA: join(scratch, 'restored') });
      assert.equal(exitCode, 0, JSON.stringify(checks));
      assert.ok(checks.every((check) => check.status === 'OK'), JSON.stringify(checks));
      assert.equal(checks.filter((check) => check.subject.startsWith('model ')).length, 5);
      assert.match(checks.find((check) => check.subject === 'store contents')!.detail, /^2 group\(s\), 5 image\(s\), 4 face\(s\)$/);
    });

    it('fails on a model that does not match its pin and on a missing image file, and counts stray files', async () => {
      const models = join(scratch, 'doctor-models');
      // dereference: a models/ that is a symlink must be copied, not linked (the test damages the copy).
      cpSync(INSTALLED_MODELS, models, { recursive: true, dereference: true });
      const pose = join(models, 'fr_pose.onnx');
      const bytes = readFileSync(pose);
      bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 0xff, bytes.length - 1);
      writeFileSync(pose, bytes);
      const data = join(scratch, 'doctor-data');
      cpSync(join(scratch, 'restored'), data, { recursive: true });
      const [shard] = readdirSync(join(data, 'crops'));
      const [crop] = readdirSync(join(data, 'crops', shard!));
      rmSync(join(data, 'crops', shard!, crop!));
      const [originalShard] = readdirSync(join(data, 'originals'));
      writeFileSync(join(data, 'originals', originalShard!, 'stray.tmp'), 'left by a crash');

      const { exitCode, checks } = await doctor({ VISAGE_DATA: data, VISAGE_MODELS: models });
      assert.equal(exitCode, 1);
      const status = statusOf(checks);
      assert.equal(status['model fr_pose.onnx'], 'FAIL');
      assert.match(checks.find((check) => check.subject === 'model fr_pose.onnx')!.detail, /does not match its pinned checksum/);
      assert.equal(status['model fr_detect.onnx'], 'OK');
      assert.equal(status['store files'], 'FAIL');
      assert.match(checks.find((check) => check.subject === 'store files')!.detail, /^1 image file.* missing, and 1 file\(s\) no row references/);
      rmSync(join(data, 'visage.db')); // no store yet: fine, the first start creates it
      const fresh = await doctor({ VISAGE_DATA: data });
      assert.equal(statusOf(fresh.checks)['store'], 'OK');
    });

    it('warns when the allocator settings and the heap floor are not in effect: `node bin/visage.mjs` skips the line that sets them', () => {
      const env: NodeJS.ProcessEnv = { ...process.env, VISAGE_LOG_LEVEL: 'silent', VISAGE_DATA: join(scratch, 'restored') };
      for (const name of Object.keys(ALLOCATOR_ENV)) delete env[name];
      const checks = JSON.parse(execFileSync(process.execPath, [VISAGE_BIN, 'doctor', '--json'], { env, encoding: 'utf8' })) as Check[];
      const allocator = checks.find((check) => check.subject === 'allocator')!;
      assert.equal(allocator.status, 'WARN');
      assert.match(allocator.detail, /MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_ not as recommended/);
      const heapFloor = checks.find((check) => check.subject === 'heap floor')!;
      assert.equal(heapFloor.status, 'WARN');
      assert.match(heapFloor.detail, /started without --initial-old-space-size=64/);
    });

    it('npm start, the Docker image and the visage command all set the allocator settings and the heap floor doctor checks', () => {
      const launchers = {
        'npm start': (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts['start']!,
        Dockerfile: readFileSync('Dockerfile', 'utf8'),
        'bin/visage.mjs': readFileSync(VISAGE_BIN, 'utf8').split('\n')[0]!,
      };
      for (const [launcher, text] of Object.entries(launchers)) {
        for (const [name, value] of Object.entries(ALLOCATOR_ENV)) assert.ok(text.includes(`${name}=${value}`), `${launcher} sets ${name}=${value}`);
        assert.ok(text.includes(MAIN_HEAP_FLAG), `${launcher} passes ${MAIN_HEAP_FLAG}`);
      }
    });

    it('reports a bad configuration variable by name', async () => {
      const { exitCode, checks } = await doctor({ VISAGE_THREADS: 'many' });
      assert.equal(exitCode, 1);
      assert.deepEqual(checks, [{ status: 'FAIL', subject: 'configuration', detail: 'VISAGE_THREADS="many": expected a whole number' }]);
    });
  });

  it('serve keeps serving the library the imports wrote, and stops cleanly on SIGTERM', async () => {
    const groups = await api<{ faceGroupList: Array<{ groupId: string }> }>(server, 'GET', '/api/faceGroups');
    assert.deepEqual(groups.data.faceGroupList.map((group) => group.groupId), ['default', 'staff']);
    assert.equal(await server.stop(), 0);
  });
});
