// Shared by goldens.js and bench.js: face-api (with the TF.js it bundles against), the model from
// the repository's models/face-expression/, and the committed crops as RGB tensors.
'use strict';
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const { PNG } = require('pngjs');
const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js');
const wasm = require('@tensorflow/tfjs-backend-wasm');

const tf = faceapi.tf;
const MODEL_DIR = path.resolve(__dirname, '../../../models/face-expression');
const CROPS_DIR = path.resolve(__dirname, 'crops');

function sha256(file) {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** Every committed crop, sorted by name: { name, width, height, rgb (Uint8Array, row-major RGB) }. */
function crops() {
  return fs.readdirSync(CROPS_DIR).filter((f) => f.endsWith('.png')).sort().map((f) => {
    const png = PNG.sync.read(fs.readFileSync(path.join(CROPS_DIR, f)));
    const rgb = new Uint8Array(png.width * png.height * 3);
    for (let i = 0; i < png.width * png.height; i++) {
      rgb[3 * i] = png.data[4 * i];
      rgb[3 * i + 1] = png.data[4 * i + 1];
      rgb[3 * i + 2] = png.data[4 * i + 2];
    }
    return { name: f.replace(/\.png$/, ''), width: png.width, height: png.height, rgb };
  });
}

/** Selects a TF.js backend ('cpu' or 'wasm', the latter from the package's own .wasm files). */
async function useBackend(name) {
  if (name === 'wasm') wasm.setWasmPaths(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm')) + path.sep);
  await tf.setBackend(name);
  await tf.ready();
  if (tf.getBackend() !== name) throw new Error(`backend ${name} did not start (got ${tf.getBackend()})`);
}

/** Loads FaceExpressionNet from the repository's model folder (once). */
async function loadModel() {
  if (!faceapi.nets.faceExpressionNet.isLoaded) await faceapi.nets.faceExpressionNet.loadFromDisk(MODEL_DIR);
  return faceapi.nets.faceExpressionNet;
}

module.exports = { faceapi, tf, MODEL_DIR, CROPS_DIR, sha256, crops, useBackend, loadModel };
