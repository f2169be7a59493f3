// Speed of face-api's FaceExpressionNet on TF.js (wasm backend by default; `node bench.js cpu 5` for
// the cpu one, `node bench.js wasm 5 2` for 2 wasm threads): median time per batch of
// faceExpressionNet.forward() on crops already padded and resized to 112x112 (left: stacking,
// normalising, the network, softmax), batch 1 and 8, over the committed crops. The counterpart of
// the bench module's FaceExpressionBench (java: the network on prepared inputs).
'use strict';
const { faceapi, tf, crops, useBackend, loadModel } = require('./common');

async function main() {
  const backend = process.argv[2] || 'wasm';
  const seconds = Number(process.argv[3] || 5);
  const threads = process.argv[4];
  if (backend === 'wasm' && threads) require('@tensorflow/tfjs-backend-wasm').setThreadsCount(Number(threads));
  await useBackend(backend);
  const net = await loadModel();
  const images = crops().map((c) => tf.tensor3d(c.rgb, [c.height, c.width, 3], 'int32'));
  // each crop padded and resized to 112x112 once (face-api's toBatchTensor then only stacks them)
  const resized = [];
  for (const img of images) {
    const netInput = await faceapi.toNetInput(img);
    resized.push(tf.tidy(() => tf.squeeze(netInput.toBatchTensor(112, true), [0])));
  }
  const wasmThreads = backend === 'wasm' ? require('@tensorflow/tfjs-backend-wasm').getThreadsCount() : 1;
  console.log(`face-api ${require('@vladmandic/face-api/package.json').version}, tfjs ${tf.version.tfjs} ${backend} (${wasmThreads} threads), node ${process.version}`);
  for (const batch of [1, 8]) {
    const faces = Array.from({ length: batch }, (_, i) => resized[i % resized.length]);
    // face-api's own call: stack + normalise (cheap), the network, the classifier, softmax
    const run = async () => {
      const out = await net.forward(batch === 1 ? faces[0] : faces);
      out.dataSync();
      out.dispose();
    };
    const warmEnd = Date.now() + seconds * 400;
    while (Date.now() < warmEnd) await run();
    const times = [];
    const cpu0 = process.cpuUsage();
    const end = Date.now() + seconds * 1000;
    while (Date.now() < end || times.length < 20) {
      const t0 = process.hrtime.bigint();
      await run();
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    const cpu = process.cpuUsage(cpu0);
    const cpuPerFace = (cpu.user + cpu.system) / 1e3 / (times.length * batch);
    times.sort((a, b) => a - b);
    const median = times[times.length >> 1];
    console.log(`batch ${batch}: median ${median.toFixed(3)} ms (p10 ${times[Math.floor(times.length / 10)].toFixed(3)}), ${(median / batch).toFixed(3)} ms per face, ${times.length} runs; CPU time ${cpuPerFace.toFixed(3)} ms per face`);
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
