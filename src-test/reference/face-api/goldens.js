// Runs face-api's own FaceExpressionNet on every crop in crops/ and writes goldens.json: per
// backend (TF.js cpu and wasm) and crop, the 7 probabilities (faceExpressionNet.predictExpressions,
// face-api's public call), the logits (runNet) and the 256 features (the feature extractor's
// output), plus samples of the preprocessed 112x112 input. See README.md.
'use strict';
const fs = require('fs');
const path = require('path');
const { faceapi, tf, MODEL_DIR, sha256, crops, useBackend, loadModel } = require('./common');

const LABELS = ['neutral', 'happy', 'sad', 'angry', 'fearful', 'disgusted', 'surprised'];
/** Positions of the [112, 112, 3] (HWC) preprocessed input recorded per crop: a fixed stride through it. */
const SAMPLE_STEP = 97;

function round(x) { return Number(x.toPrecision(9)); }

async function run(backend) {
  await useBackend(backend);
  const net = await loadModel();
  const out = {};
  for (const c of crops()) {
    const img = tf.tensor3d(c.rgb, [c.height, c.width, 3], 'int32');
    const expr = await net.predictExpressions(img);
    const probabilities = LABELS.map((l) => round(expr[l]));
    const netInput = await faceapi.toNetInput(img);
    // what FaceFeatureExtractor.forwardInput feeds the network: padded, resized, mean subtracted, /255
    const batch = tf.tidy(() => faceapi.normalize(tf.cast(netInput.toBatchTensor(112, true), 'float32'), [122.782, 117.001, 104.298]).div(255));
    const flat = batch.dataSync();
    const samples = [];
    for (let i = 0; i < flat.length; i += SAMPLE_STEP) samples.push([i, round(flat[i])]);
    let sum = 0;
    for (let i = 0; i < flat.length; i++) sum += flat[i];
    const features = tf.tidy(() => net.faceFeatureExtractor.forwardInput(netInput).as2D(1, -1));
    const logits = tf.tidy(() => net.runNet(netInput));
    out[c.name] = {
      width: c.width,
      height: c.height,
      top: LABELS[probabilities.indexOf(Math.max(...probabilities))],
      probabilities,
      logits: Array.from(logits.dataSync(), round),
      features: Array.from(features.dataSync(), round),
      input: { layout: 'HWC', sum: round(sum), samples },
    };
    tf.dispose([img, batch, features, logits]);
  }
  return out;
}

(async () => {
  const backends = {};
  for (const b of ['cpu', 'wasm']) backends[b] = await run(b);
  const result = {
    generatedBy: 'src-test/reference/face-api/goldens.js',
    package: '@vladmandic/face-api ' + require('@vladmandic/face-api/package.json').version,
    tfjs: tf.version.tfjs,
    model: {
      'face_expression_model.bin': sha256(path.join(MODEL_DIR, 'face_expression_model.bin')),
      'face_expression_model-weights_manifest.json': sha256(path.join(MODEL_DIR, 'face_expression_model-weights_manifest.json')),
    },
    labels: LABELS,
    backends,
  };
  // one line per numeric array (or array of pairs): readable diffs without a line per number
  const text = JSON.stringify(result, null, 1).replace(/\[[-\d.e,\s\[\]]*\]/g, (m) => m.replace(/\s+/g, ''));
  fs.writeFileSync(path.join(__dirname, 'goldens.json'), text + '\n');
  for (const [name, r] of Object.entries(backends.cpu)) console.log(name.padEnd(18), r.top.padEnd(10), r.probabilities.map((p) => p.toFixed(4)).join(' '));
})().catch((e) => { console.error(e); process.exit(1); });
