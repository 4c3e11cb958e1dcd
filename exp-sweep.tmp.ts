import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import pLimit from 'p-limit';
import { AwsClients } from './lib/collect/clients.js';
import { sweepObjects } from './lib/collect/object-source.js';
import { chunkedObjectSink } from './lib/report-store/object-chunks.js';
import { LocalWorkArea } from './lib/report-store/local-work-area.js';

const N = Number(process.argv[2] ?? 200000);
const source = `
const { createServer } = require('node:http');
const { parentPort } = require('node:worker_threads');
const key = (i) => 'data/' + String(i).padStart(8, '0') + '.bin';
const server = createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  const objects = Number(url.pathname.split('/')[1].slice(1));
  if (req.method === 'HEAD') { res.writeHead(200, { 'content-length': '10', 'x-amz-server-side-encryption': 'AES256' }); return res.end(); }
  const start = Number(url.searchParams.get('continuation-token') || 0);
  const end = Math.min(objects, start + 1000);
  let body = '<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name>';
  for (let i = start; i < end; i++) body += '<Contents><Key>' + key(i) + '</Key><Size>10</Size><StorageClass>STANDARD</StorageClass></Contents>';
  body += '<IsTruncated>' + (end < objects) + '</IsTruncated>' + (end < objects ? '<NextContinuationToken>' + end + '</NextContinuationToken>' : '') + '</ListBucketResult>';
  res.writeHead(200, { 'content-type': 'application/xml' }); res.end(body);
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
`;
const worker = new Worker(source, { eval: true });
const port = await new Promise<number>((r) => worker.once('message', r));
const clients = new AwsClients({ maxAttempts: 3, endpoint: `http://127.0.0.1:${port}`, forcePathStyle: true, credentials: { accessKeyId: 'A', secretAccessKey: 'B' } }, 'us-east-1');
const work = new LocalWorkArea(mkdtempSync(join(tmpdir(), 'exp-')));
const limiter = pLimit(64);
let peak = 0;
const started = Date.now();
const timer = setInterval(() => { (globalThis as any).gc?.(); const rss = process.memoryUsage().rss / 2 ** 20; const heap = process.memoryUsage().heapUsed / 2 ** 20; const ext = process.memoryUsage().external / 2**20; peak = Math.max(peak, rss); console.error(`${((Date.now()-started)/1000).toFixed(0)}s rss ${rss.toFixed(0)} heap ${heap.toFixed(0)} ext ${ext.toFixed(0)} MiB`); }, 2000);
const bucket: any = { name: `n${N}`, region: 'us-east-1', accountId: '111122223333', partition: 'aws' };
await sweepObjects({ scanTime: new Date(), buckets: [bucket], sweeps: { [bucket.name]: 'pending' }, objects: { mode: 'full', versions: false, sampleSize: 1, sinkFor: (b) => chunkedObjectSink(work, { accountId: '111122223333', name: b.name }, 0) } as any, clients, limit: (fn) => limiter(fn) });
clearInterval(timer);
console.log(JSON.stringify({ N, classified: bucket.objects?.classified, seconds: (Date.now()-started)/1000, peakMiB: peak }));
clients.destroy(); await worker.terminate();
