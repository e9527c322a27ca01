// A consumer group read by two ioredis consumers against a
// Redis-compatible server: a producer XADDs entries to a few streams, the
// consumers read them with XREADGROUP BLOCK and XACK them, one consumer
// "crashes" with entries unacknowledged, and the other takes them over
// with XAUTOCLAIM. Every entry must be acknowledged exactly once by the
// end (XACK answered 1 once per entry), and XPENDING must be empty. Prints one JSON line of figures; exit 0
// on success, 1 on a failed check, 2 on a timeout.
//
//   node streams.mjs single 127.0.0.1:6379
//   node streams.mjs cluster 127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002
import IORedis from 'ioredis';

const [mode, addrs] = process.argv.slice(2);
const nodes = (addrs || '').split(',').filter(Boolean).map((a) => {
  const i = a.lastIndexOf(':');
  return { host: a.slice(0, i), port: Number(a.slice(i + 1)) };
});
if (!['single', 'cluster'].includes(mode) || nodes.length === 0) {
  console.error('usage: node streams.mjs single|cluster host:port[,host:port...]');
  process.exit(64);
}
const STREAMS = ['{orders}:s', '{payments}:s', '{mail}:s'];
const PER_STREAM = Number(process.env.STREAM_ENTRIES || 500);
const TIMEOUT_MS = Number(process.env.STREAM_TIMEOUT_MS || 90000);
const GROUP = 'workers';

const conns = [];
function connect() {
  const c = mode === 'cluster' ? new IORedis.Cluster(nodes) : new IORedis(nodes[0]);
  conns.push(c);
  return c;
}

const acked = new Map(); // "stream id" -> times acknowledged
let crashedHolding = 0;

// consume reads as consumer name until stopped; with crashAfter it stops
// acknowledging after that many entries and returns, leaving them pending.
// Each reads one stream: a cluster serves one slot per command.
async function consume(stream0, name, stop, crashAfter) {
  const r = connect();
  let seen = 0;
  while (!stop.done) {
    const res = await r.xreadgroup('GROUP', GROUP, name, 'COUNT', 20, 'BLOCK', 200,
      'STREAMS', stream0, '>');
    if (!res) continue;
    for (const [stream, entries] of res) {
      for (const [id, fields] of entries) {
        if (fields[0] !== 'n') throw new Error(`entry ${stream} ${id}: fields ${fields}`);
        seen++;
        if (crashAfter !== undefined && seen > crashAfter) { crashedHolding++; continue; }
        // XACK answers 1 only for the call that removed it from the PEL.
        if (await r.xack(stream, GROUP, id) === 1) {
          const k = `${stream} ${id}`;
          acked.set(k, (acked.get(k) || 0) + 1);
        }
      }
    }
    if (crashAfter !== undefined && seen > crashAfter) return; // crashed: its pending entries stay
  }
}

async function main() {
  const start = Date.now();
  const admin = connect();
  for (const s of STREAMS) {
    await admin.del(s);
    await admin.xgroup('CREATE', s, GROUP, '$', 'MKSTREAM');
  }
  const stop = { done: false };
  const crashed = Promise.all(STREAMS.map((s) => consume(s, 'c-crash', stop, 30)));
  const steady = Promise.all(STREAMS.map((s) => consume(s, 'c-steady', stop)));
  const ids = new Set();
  for (let i = 0; i < PER_STREAM; i++) {
    for (const s of STREAMS) {
      ids.add(`${s} ${await admin.xadd(s, '*', 'n', String(i))}`);
    }
  }
  await crashed;
  // Take over what the crashed consumer left pending, as a recovering worker does.
  const claimer = connect();
  let claimed = 0;
  while (true) {
    if (Date.now() - start > TIMEOUT_MS) { console.error(`timeout: ${acked.size} of ${ids.size} acknowledged`); return 2; }
    let progress = false;
    for (const s of STREAMS) {
      const [, entries] = await claimer.xautoclaim(s, GROUP, 'c-claimer', 0, '0-0', 'COUNT', 100);
      for (const [id] of entries) {
        if (await claimer.xack(s, GROUP, id) === 1) acked.set(`${s} ${id}`, (acked.get(`${s} ${id}`) || 0) + 1);
        claimed++; progress = true;
      }
    }
    if (!progress && acked.size >= ids.size) break;
    if (!progress) await new Promise((r) => setTimeout(r, 20));
  }
  stop.done = true;
  await steady;
  let bad = 0;
  for (const k of ids) if (acked.get(k) !== 1) { if (bad < 10) console.error(`${k}: acknowledged ${acked.get(k) || 0} times`); bad++; }
  for (const k of acked.keys()) if (!ids.has(k)) { console.error(`${k}: acknowledged but never added`); bad++; }
  for (const s of STREAMS) {
    const [count] = await admin.xpending(s, GROUP);
    if (count !== 0) { console.error(`${s}: ${count} entries still pending`); bad++; }
    const len = await admin.xlen(s);
    if (len !== PER_STREAM) { console.error(`${s}: XLEN ${len}, want ${PER_STREAM}`); bad++; }
  }
  if (claimed === 0 || crashedHolding === 0) { console.error(`nothing was claimed (${claimed}) from the crashed consumer (${crashedHolding})`); bad++; }
  console.log(JSON.stringify({ mode, entries: ids.size, claimed, ms: Date.now() - start, bad }));
  return bad === 0 ? 0 : 1;
}

let code = 1;
try { code = await main(); } catch (e) { console.error(e); code = 1; }
for (const c of conns) c.disconnect();
process.exit(code);
