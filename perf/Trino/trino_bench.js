// Trino front door benchmark client (plain node http, keep-alive, one connection, sequential requests).
// Usage: node trino_bench.js latency EDGE_URL DIRECT_URL COUNT
//        node trino_bench.js passthrough PROXY_URL COORDINATOR_URL COUNT
//        node trino_bench.js stream EDGE_URL ROWS EDGE_PID
// Prints one JSON line with the measurements.
'use strict';
const http = require('http');
const fs = require('fs');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function request(method, url, body, extraHeaders) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = http.request({ method, hostname: u.hostname, port: u.port, path: u.pathname + u.search, agent,
      headers: { 'X-Trino-User': 'bench', 'Content-Type': 'text/plain', ...extraHeaders } }, res => {
      const chunks = [];
      res.on('data', c => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

async function query(edge, sql, onPage, headers) {
  let page = JSON.parse((await request('POST', edge + '/v1/statement', sql, headers)).body);
  let requests = 1;
  for (;;) {
    if (onPage) onPage(page);
    if (page.error) throw new Error(page.error.message);
    if (!page.nextUri) return requests;
    const res = await request('GET', page.nextUri);
    requests++;
    if (onPage && onPage.raw) onPage.raw(res.body.length);
    page = JSON.parse(res.body);
  }
}

function percentiles(samples) {
  samples.sort((a, b) => a - b);
  const at = p => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))];
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99) };
}

const ms = ns => Number(ns) / 1e6;

async function latency(edge, direct, count) {
  for (let i = 0; i < 200; i++) { await request('GET', direct); await query(edge, 'SELECT 1'); }
  const directSamples = [], edgeSamples = [];
  let requests = 0;
  for (let i = 0; i < count; i++) {
    let t = process.hrtime.bigint();
    await request('GET', direct);
    directSamples.push(ms(process.hrtime.bigint() - t));
    t = process.hrtime.bigint();
    requests += await query(edge, 'SELECT 1');
    edgeSamples.push(ms(process.hrtime.bigint() - t));
  }
  // As presto-client sends it: with a schema (its default "default", which the engine does not have).
  const schemaHeaders = { 'X-Trino-Schema': 'default' };
  const schemaSamples = [];
  for (let i = 0; i < count; i++) {
    const t = process.hrtime.bigint();
    await query(edge, 'SELECT 1', null, schemaHeaders);
    schemaSamples.push(ms(process.hrtime.bigint() - t));
  }
  // The front door alone: a statement it answers itself in one round trip (USE: auth, headers, JSON page).
  const useSamples = [];
  for (let i = 0; i < count; i++) {
    const t = process.hrtime.bigint();
    await query(edge, 'USE bench.s');
    useSamples.push(ms(process.hrtime.bigint() - t));
  }
  const d = percentiles(directSamples), e = percentiles(edgeSamples), u = percentiles(useSamples), sc = percentiles(schemaSamples);
  const perQuery = requests / count;
  console.log(JSON.stringify({ count, http_requests_per_query: perQuery, direct_ms: d, trino_select1_ms: e,
    added_p50_ms_vs_same_number_of_direct_round_trips: +(e.p50 - perQuery * d.p50).toFixed(4),
    trino_select1_with_schema_default_ms: sc,
    front_door_only_use_statement_ms: u, front_door_added_p50_ms_per_request: +(u.p50 - d.p50).toFixed(4) }));
}

// A Trino gateway's added latency: the same query, same client, sent to the coordinator directly and through the
// proxy, alternately (so both see the same machine load); added = proxy minus direct, per percentile.
async function passthrough(proxy, coordinator, count) {
  for (let i = 0; i < 200; i++) { await query(coordinator, 'SELECT 1'); await query(proxy, 'SELECT 1'); }
  const directSamples = [], proxySamples = [];
  let directRequests = 0, proxyRequests = 0;
  for (let i = 0; i < count; i++) {
    let t = process.hrtime.bigint();
    directRequests += await query(coordinator, 'SELECT 1');
    directSamples.push(ms(process.hrtime.bigint() - t));
    t = process.hrtime.bigint();
    proxyRequests += await query(proxy, 'SELECT 1');
    proxySamples.push(ms(process.hrtime.bigint() - t));
  }
  const d = percentiles(directSamples), p = percentiles(proxySamples);
  const added = {};
  for (const k of Object.keys(d)) added[k] = +(p[k] - d[k]).toFixed(4);
  console.log(JSON.stringify({ count, http_requests_per_query: { direct: directRequests / count, through_edge: proxyRequests / count },
    coordinator_direct_ms: d, through_edge_ms: p, edge_added_ms: added }));
}

function peakRss(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmHWM:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}

async function stream(edge, rows, pid) {
  await query(edge, 'SELECT 1');
  const rssBefore = peakRss(pid);
  let count = 0, bytes = 0, pages = 0;
  const onPage = page => { pages++; if (page.data) count += page.data.length; };
  onPage.raw = n => { bytes += n; };
  const t = process.hrtime.bigint();
  await query(edge, `SELECT i, 'row ' || i AS s, i * 0.5 AS d FROM range(${rows}) t(i)`, onPage);
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  console.log(JSON.stringify({ rows: count, pages, seconds: +seconds.toFixed(2), rows_per_s: Math.round(count / seconds),
    mb_per_s: +(bytes / 1e6 / seconds).toFixed(1), json_mb: +(bytes / 1e6).toFixed(1),
    edge_peak_rss_mb_before: +(rssBefore / 1048576).toFixed(1), edge_peak_rss_mb_after: +(peakRss(pid) / 1048576).toFixed(1) }));
}

const [mode, ...args] = process.argv.slice(2);
(mode === 'latency' ? latency(args[0], args[1], Number(args[2]))
  : mode === 'passthrough' ? passthrough(args[0], args[1], Number(args[2]))
  : stream(args[0], Number(args[1]), Number(args[2])))
  .then(() => agent.destroy(), e => { console.error(e); process.exit(1); });
