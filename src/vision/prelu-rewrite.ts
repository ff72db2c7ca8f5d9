/**
 * Rewrites each per-channel PRelu of a model into operators onnxruntime's CPU kernels run in their blocked
 * (NCHWc) layout, with the same values (bit for bit on the shipped models' outputs; only a zero's sign can
 * differ, −0 for +0):
 *
 *   PRelu(x, a) = Relu(x) + a·min(x, 0) = Relu(x) + Conv₁ₓ₁(Relu(Conv₁ₓ₁(x, −1)), −a)
 *
 * The 1×1 depthwise convolutions take the per-channel factors, their Relu fuses into the first and the Add into
 * the second. Why: onnxruntime's PRelu is a generic broadcasting kernel outside the blocked layout, so every one
 * also costs a reorder of the tensor in and out. In `fr_feature.onnx` (MobileFaceNet, 33 PRelus) that was 6 of
 * its 10.8 ms; rewritten, the network takes 5.0 ms. Exact because each output element is either x (x ≥ 0:
 * the second term is ±0) or one product a·x, the same single rounding PRelu does.
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
type Node = onnxProto.onnx.INodeProto;
type Tensor = onnxProto.onnx.ITensorProto;

const FLOAT = onnx.TensorProto.DataType.FLOAT;
/**
 * onnxruntime blocks channels by 16 (AVX-512; 8 on AVX2) and leaves a convolution whose channels do not divide
 * into blocks in plain layout; a PRelu there has no reorders to save and the rewrite only adds nodes
 * (`fr_liveness.onnx`, 103-, 13-, 231-channel layers: 4.9 → 5.2 ms with all 33 rewritten), so such PRelus stay.
 */
const BLOCK = 16;

export interface RewrittenModel {
  bytes: Uint8Array;
  /** How many PRelu nodes were replaced. */
  rewritten: number;
}

/** Returns the model with every PRelu whose slope is a constant [C,1,1] float tensor, C a multiple of 16, rewritten. */
export function rewritePRelu(modelBytes: Uint8Array): RewrittenModel {
  const model = onnx.ModelProto.decode(modelBytes);
  const graph = model.graph;
  if (!graph) return { bytes: modelBytes, rewritten: 0 };
  const initializer = graph.initializer ?? [];
  const initializers = new Map(initializer.map((t) => [t.name ?? '', t]));
  const nodes: Node[] = [];
  const replacedSlopes = new Set<string>();
  let rewritten = 0;
  for (const node of graph.node ?? []) {
    const [x, slopeName] = node.input ?? [];
    const y = node.output?.[0];
    const slope = node.opType === 'PRelu' && !node.domain ? channelSlope(initializers.get(slopeName ?? '')) : undefined;
    if (!slope || !x || !y || !slopeName) {
      nodes.push(node);
      continue;
    }
    const name = (suffix: string) => `${y}/prelu_${suffix}`;
    initializer.push(depthwiseWeights(name('minus_one'), new Float32Array(slope.length).fill(-1)));
    initializer.push(depthwiseWeights(name('minus_slope'), slope.map((a) => -a)));
    nodes.push(
      makeNode('Relu', [x], name('positive')),
      makeNode('Conv', [x, name('minus_one')], name('negated'), depthwise(slope.length)),
      makeNode('Relu', [name('negated')], name('negative_part')),
      makeNode('Conv', [name('negative_part'), name('minus_slope')], name('scaled'), depthwise(slope.length)),
      makeNode('Add', [name('scaled'), name('positive')], y),
    );
    replacedSlopes.add(slopeName);
    rewritten++;
  }
  if (rewritten === 0) return { bytes: modelBytes, rewritten: 0 };
  graph.node = nodes;
  const stillUsed = new Set(nodes.flatMap((n) => n.input ?? []));
  const unused = (name: string | null | undefined) => replacedSlopes.has(name ?? '') && !stillUsed.has(name ?? '');
  graph.initializer = initializer.filter((t) => !unused(t.name));
  graph.input = (graph.input ?? []).filter((v) => !unused(v.name));
  return { bytes: onnx.ModelProto.encode(model).finish(), rewritten };
}

/** The slope as C floats when it is a constant of shape [C,1,1] (one factor per channel of an NCHW tensor), C in blocks. */
function channelSlope(tensor: Tensor | undefined): Float32Array | undefined {
  if (!tensor || tensor.dataType !== FLOAT) return undefined;
  const dims = (tensor.dims ?? []).map(Number);
  if (dims.length !== 3 || dims[1] !== 1 || dims[2] !== 1) return undefined;
  const channels = dims[0]!;
  const raw = tensor.rawData; // little-endian, like every platform onnxruntime-node ships for
  const values =
    raw && raw.length > 0
      ? new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength))
      : Float32Array.from(tensor.floatData ?? []);
  return values.length === channels && channels % BLOCK === 0 ? values : undefined;
}

function depthwiseWeights(name: string, values: Float32Array): Tensor {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  return onnx.TensorProto.create({ name, dataType: FLOAT, dims: [values.length, 1, 1, 1], rawData: bytes });
}

function depthwise(channels: number) {
  return [
    onnx.AttributeProto.create({ name: 'group', type: onnx.AttributeProto.AttributeType.INT, i: channels }),
    onnx.AttributeProto.create({ name: 'kernel_shape', type: onnx.AttributeProto.AttributeType.INTS, ints: [1, 1] }),
  ];
}

function makeNode(opType: string, input: string[], output: string, attribute: ReturnType<typeof depthwise> = []): Node {
  return onnx.NodeProto.create({ opType, input, output: [output], name: output, attribute });
}
