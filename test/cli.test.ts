import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runVisage, serveVisage } from './helpers/cli.js';

const scratch = mkdtempSync(join(tmpdir(), 'visage-cli-test-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

describe('visage (the command line)', () => {
  it('lists its commands and refuses an unknown one with exit code 1', async () => {
    const help = await runVisage(['--help']);
    assert.equal(help.exitCode, 0);
    assert.match(help.stdout, /serve/);
    const unknown = await runVisage(['frobnicate']);
    assert.equal(unknown.exitCode, 1);
    assert.match(unknown.stderr, /unknown command 'frobnicate'/);
  });

  it('serve starts the API on the configured data directory and stops cleanly on SIGTERM', async () => {
    const server = await serveVisage({ VISAGE_DATA: join(scratch, 'serve-data') });
    try {
      const reply = await fetch(`${server.url}/api/faceGroups`);
      const body = (await reply.json()) as { code: number; data: { faceGroupList: Array<{ groupId: string }> } };
      assert.equal(body.code, 0);
      assert.deepEqual(body.data.faceGroupList.map((group) => group.groupId), ['default']);
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });
});
