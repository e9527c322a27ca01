// A BullMQ queue run against a Redis-compatible server: one producer, two
// workers, delayed jobs and jobs that fail before they succeed. It checks
// that every job completes exactly once, with the attempts it was given,
// and prints one JSON line of figures. Exit 0 on success, 1 on a failed
// check, 2 on a timeout.
//
//   node bullmq.mjs single 127.0.0.1:6379
//   node bullmq.mjs cluster 127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002
import { Queue, Worker, QueueEvents } from 'bullmq';
import IORedis from 'ioredis';

const [mode, addrs] = process.argv.slice(2);
const nodes = (addrs || '').split(',').filter(Boolean).map((a) => {
  const i = a.lastIndexOf(':');
  return { host: a.slice(0, i), port: Number(a.slice(i + 1)) };
});
if (!['single', 'cluster'].includes(mode) || nodes.length === 0) {
  console.error('usage: node bullmq.mjs single|cluster host:port[,host:port...]');
  process.exit(64);
}
const JOBS = Number(process.env.BULLMQ_JOBS || 300);
const DELAYED_EVERY = 10; // every 10th job is delayed
const FLAKY_EVERY = 7; // every 7th job fails twice, then succeeds
const TIMEOUT_MS = Number(process.env.BULLMQ_TIMEOUT_MS || 90000);

function connect() {
  if (mode === 'cluster') {
    return new IORedis.Cluster(nodes, { redisOptions: { maxRetriesPerRequest: null } });
  }
  return new IORedis({ ...nodes[0], maxRetriesPerRequest: null });
}

// In cluster mode every key of a queue must share a slot: a hash-tagged prefix.
const prefix = mode === 'cluster' ? '{shoal-bq}' : 'shoal-bq';
const name = 'jobs';
const conns = [];
const conn = () => { const c = connect(); conns.push(c); return c; };

const queue = new Queue(name, { connection: conn(), prefix });
// From the stream's start: its first XREAD is sent some time after
// waitUntilReady, and from '$' (the default) it misses the events of the
// jobs that complete before it (298 of 300 seen once against Redis itself).
const events = new QueueEvents(name, { connection: conn(), prefix, lastEventId: '0-0' });
const completed = new Map(); // job id -> times completed
const attempts = new Map(); // job id -> times processed
let eventsCompleted = 0;
events.on('completed', () => { eventsCompleted++; });

const processor = async (job) => {
  attempts.set(job.id, (attempts.get(job.id) || 0) + 1);
  if (job.data.flaky && job.attemptsMade < 2) {
    throw new Error(`flaky job ${job.id}, attempt ${job.attemptsMade + 1}`);
  }
  return { n: job.data.n * 2 };
};
const workers = [1, 2].map(() => new Worker(name, processor, { connection: conn(), prefix, concurrency: 4 }));
for (const w of workers) {
  w.on('completed', (job, result) => {
    if (result.n !== job.data.n * 2) { console.error(`job ${job.id}: wrong result ${JSON.stringify(result)}`); }
    completed.set(job.id, (completed.get(job.id) || 0) + 1);
  });
}

async function main() {
  const start = Date.now();
  await events.waitUntilReady();
  await queue.obliterate({ force: true });
  const ids = [];
  for (let n = 0; n < JOBS; n++) {
    const opts = { attempts: 3, backoff: { type: 'fixed', delay: 20 }, removeOnComplete: false };
    if (n % DELAYED_EVERY === 0) opts.delay = 100 + (n % 7) * 10;
    const job = await queue.add('j', { n, flaky: n % FLAKY_EVERY === 0 }, opts);
    ids.push(job.id);
  }
  while (completed.size < JOBS) {
    if (Date.now() - start > TIMEOUT_MS) {
      console.error(`timeout: ${completed.size} of ${JOBS} jobs completed; counts ${JSON.stringify(await queue.getJobCounts())}`);
      return 2;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  let bad = 0;
  for (const [n, id] of ids.entries()) {
    const want = n % FLAKY_EVERY === 0 ? 3 : 1;
    if (completed.get(id) !== 1) { console.error(`job ${id}: completed ${completed.get(id) || 0} times`); bad++; }
    if (attempts.get(id) !== want) { console.error(`job ${id}: processed ${attempts.get(id)} times, want ${want}`); bad++; }
  }
  const counts = await queue.getJobCounts('completed', 'failed', 'waiting', 'delayed', 'active');
  if (counts.completed !== JOBS || counts.failed !== 0 || counts.waiting + counts.delayed + counts.active !== 0) {
    console.error(`queue counts ${JSON.stringify(counts)}`); bad++;
  }
  // QueueEvents reads the events stream with XREAD BLOCK: it must see them all.
  const deadline = Date.now() + 30000;
  while (eventsCompleted < JOBS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  if (eventsCompleted !== JOBS) { console.error(`QueueEvents saw ${eventsCompleted} completed events, want ${JOBS}`); bad++; }
  console.log(JSON.stringify({ mode, jobs: JOBS, ms: Date.now() - start, counts, eventsCompleted, bad }));
  return bad === 0 ? 0 : 1;
}

let code = 1;
try { code = await main(); } catch (e) { console.error(e); code = 1; }
await Promise.allSettled([...workers.map((w) => w.close()), queue.close(), events.close()]);
for (const c of conns) c.disconnect();
process.exit(code);
