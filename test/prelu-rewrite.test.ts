/**
 * The PRelu rewrite (src/vision/prelu-rewrite.ts) must not change what a model computes: bit for bit on the two
 * shipped models that have PRelus, fed with photo pixels, and value for value on a small graph with slopes of
 * both signs and inputs at the edges (zeros, infinities, tiny and huge values), where only a zero's sign may
 * differ.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { loadModel } from '../src/vision/onnx.js';
import { rewritePRelu } from '../src/vision/prelu-rewrite.js';
import { samplePhoto } from './helpers/images.js';

const { onnx } = onnxProto;
const SESSION_OPTIONS: ort.InferenceSession.SessionOptions = {
  intraOpNumThreads: 1,
  graphOptimizationLevel: 'all',
  logSeverityLevel: 3,
};

function opCounts(bytes: Uint8Array): Map<string, number> {
  const counts = new Map<string, number>();
  for (const node of onnx.ModelProto.decode(bytes).graph?.node ?? []) {
    counts.set(node.opType ?? '', (counts.get(node.opType ?? '') ?? 0) + 1);
  }
  return counts;
}

async function outputs(bytes: Uint8Array, input: Float32Array, dims: number[]): Promise<Float32Array[]> {
  const session = await ort.InferenceSession.create(bytes, SESSION_OPTIONS);
  try {
    const results = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', input, dims) });
    return session.outputNames.map((name) => results[name]!.data as Float32Array);
  } finally {
    await session.release();
  }
}

/** Photo pixels as a planar float tensor, scaled like the model's own preprocessing would. */
async function photoTensor(size: number, scale: (v: number) => number): Promise<Float32Array> {
  const { data } = await sharp(samplePhoto(2)).resize(size, size, { fit: 'cover' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const plane = size * size;
  const tensor = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) tensor[c * plane + i] = scale(data[i * 3 + c]!);
  return tensor;
}

/** Equal as values: a zero's sign may differ (−0 === 0), nothing else; NaN (0 · −∞) must be NaN in both. */
function assertSameValues(actual: Float32Array[], expected: Float32Array[]): void {
  assert.equal(actual.length, expected.length);
  for (let k = 0; k < expected.length; k++) {
    const same = (a: number, b: number) => a === b || (Number.isNaN(a) && Number.isNaN(b));
    const differing = [...expected[k]!.keys()].filter((i) => !same(actual[k]![i]!, expected[k]![i]!));
    assert.deepEqual(differing.map((i) => [i, actual[k]![i], expected[k]![i]]), []);
  }
}

function assertSameBits(actual: Float32Array[], expected: Float32Array[]): void {
  assert.equal(actual.length, expected.length);
  for (let k = 0; k < expected.length; k++) {
    assert.deepEqual(new Uint32Array(actual[k]!.buffer, actual[k]!.byteOffset, actual[k]!.length), new Uint32Array(expected[k]!.buffer, expected[k]!.byteOffset, expected[k]!.length));
  }
}

describe('PRelu rewrite', () => {
  for (const { file, size, scale, prelus, rewritten: expected } of [
    { file: 'fr_feature.onnx', size: 112, scale: (v: number) => (v - 127) / 128, prelus: 33, rewritten: 33 },
    // Only 3 of its layers (32, 32 and 512 channels) divide into onnxruntime's blocks of 16.
    { file: 'fr_liveness.onnx', size: 128, scale: (v: number) => v, prelus: 33, rewritten: 3 },
  ]) {
    it(`replaces ${expected} of the ${prelus} PRelus of ${file} and keeps its outputs bit for bit`, async () => {
      const original = readFileSync(`models/${file}`);
      const { bytes, rewritten } = rewritePRelu(original);
      assert.equal(rewritten, expected);
      assert.equal(opCounts(original).get('PRelu'), prelus);
      assert.equal(opCounts(bytes).get('PRelu') ?? 0, prelus - expected);
      const input = await photoTensor(size, scale);
      const dims = [1, 3, size, size];
      assertSameBits(await outputs(bytes, input, dims), await outputs(original, input, dims));
    });
  }

  it('is what the model zoo loads', async () => {
    assert.equal((await loadModel('models', 'fr_feature.onnx')).rewrittenPRelus, 33);
    assert.equal((await loadModel('models', 'fr_liveness.onnx')).rewrittenPRelus, 3);
    assert.equal((await loadModel('models', 'fr_pose.onnx')).rewrittenPRelus, 0);
  });

  it('leaves models without PRelu as they are', () => {
    const detector = readFileSync('models/fr_detect.onnx');
    const { bytes, rewritten } = rewritePRelu(detector);
    assert.equal(rewritten, 0);
    assert.equal(bytes, detector);
  });

  it('gives the same values for slopes of either sign at the edges of float32, and skips slopes it cannot split into blocks', async () => {
    const slope = new Float32Array(16).map((_, c) => [0.25, -1.3541721, 0, 1.231559][c % 4]! * (1 + c / 16));
    const model = tinyPReluModel([
      { slope, dims: [16, 1, 1] },
      { slope: new Float32Array([0.5]), dims: [1] },
      { slope: new Float32Array([-0.75]), dims: [1, 1, 1] },
    ]);
    const { bytes, rewritten } = rewritePRelu(model);
    assert.equal(rewritten, 1, 'only the [16,1,1] slope is split');
    assert.equal(opCounts(bytes).get('PRelu'), 2);
    const edges = [0, -0, 1, -1, 1e-45, -1e-45, 1e-38, -1e-38, 3.4e38, -3.4e38, Infinity, -Infinity, 0.1, -0.1, 7.5, -7.5];
    const input = new Float32Array(16 * 16);
    for (let c = 0; c < 16; c++) for (let i = 0; i < 16; i++) input[c * 16 + i] = edges[(i + c * 5) % edges.length]!;
    assertSameValues(await outputs(bytes, input, [1, 16, 4, 4]), await outputs(model, input, [1, 16, 4, 4]));
  });
});

/** A graph of PRelus in a row on a [1,16,4,4] input, one per given slope. */
function tinyPReluModel(slopes: { slope: Float32Array; dims: number[] }[]): Uint8Array {
  const floatType = onnx.TensorProto.DataType.FLOAT;
  const shape = (dims: number[]) => ({ tensorType: { elemType: floatType, shape: { dim: dims.map((dimValue) => ({ dimValue })) } } });
  const node = slopes.map((_, i) =>
    onnx.NodeProto.create({ opType: 'PRelu', name: `prelu${i}`, input: [i === 0 ? 'x' : `y${i - 1}`, `slope${i}`], output: [`y${i}`] }),
  );
  const initializer = slopes.map(({ slope, dims }, i) =>
    onnx.TensorProto.create({ name: `slope${i}`, dataType: floatType, dims, rawData: new Uint8Array(slope.buffer) }),
  );
  const graph = onnx.GraphProto.create({
    name: 'tiny',
    node,
    initializer,
    input: [onnx.ValueInfoProto.create({ name: 'x', type: shape([1, 16, 4, 4]) })],
    output: [onnx.ValueInfoProto.create({ name: `y${slopes.length - 1}`, type: shape([1, 16, 4, 4]) })],
  });
  return onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 7, opsetImport: [{ version: 11 }], graph })).finish();
}
