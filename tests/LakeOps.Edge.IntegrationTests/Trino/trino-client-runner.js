// Runs one SQL statement with the npm 'trino-client' or 'presto-client' package and prints one JSON line:
// {"columns":[{"name","type"}],"rows":[[...]],"states":["QUEUED",...],"error":{...}|null,"pages":N}
// Usage: node trino-client-runner.js trino|presto SERVER_URL USER PASSWORD|- CATALOG SQL [SCHEMA]
'use strict';
const path = require('path');
const modules = path.join(__dirname, 'node', 'node_modules');
const [client, server, user, password, catalog, sql, schema] = process.argv.slice(2);

function print(result) { process.stdout.write(JSON.stringify(result) + '\n'); }

// JSON.parse loses integers beyond 2^53 (bigint extremes): quote such literals first, so they compare exactly.
function losslessParse(text) {
  if (typeof text !== 'string') return text;
  let out = '', i = 0, start = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
      i++;
    } else if (c === '-' || (c >= '0' && c <= '9')) {
      let j = i + 1;
      while (j < text.length && /[0-9.eE+-]/.test(text[j])) j++;
      const literal = text.slice(i, j);
      if (/^-?[0-9]+$/.test(literal) && !Number.isSafeInteger(Number(literal))) { out += text.slice(start, i) + '"' + literal + '"'; start = j; }
      i = j;
    } else i++;
  }
  try { return JSON.parse(out + text.slice(start)); } catch (e) { return text; } // error bodies (401, 404) are text
}

async function runTrino() {
  // The axios instance trino-client itself loads (resolved from its directory, so the same module).
  require(require.resolve('axios', { paths: [path.join(modules, 'trino-client')] })).defaults.transformResponse = [losslessParse];
  const { Trino, BasicAuth } = require(path.join(modules, 'trino-client'));
  const options = { server, catalog: catalog || undefined, schema: schema || undefined, source: 'edge-it' };
  if (password !== '-') options.auth = new BasicAuth(user, password); else options.extraHeaders = { 'X-Trino-User': user };
  const trino = Trino.create(options);
  const result = { columns: null, rows: [], states: [], error: null, pages: 0 };
  try {
    const iterator = await trino.query(sql);
    for await (const page of iterator) {
      result.pages++;
      if (page.stats) result.states.push(page.stats.state);
      if (page.columns && !result.columns) result.columns = page.columns.map(c => ({ name: c.name, type: c.type }));
      if (page.data) for (const row of page.data) result.rows.push(row);
      if (page.error) result.error = { message: page.error.message, errorName: page.error.errorName, errorType: page.error.errorType };
    }
  } catch (e) {
    result.error = { message: String(e && e.message || e), errorName: 'CLIENT', status: e && e.response && e.response.status };
  }
  print(result);
}

function runPresto() {
  const presto = require(path.join(modules, 'presto-client'));
  const url = new URL(server);
  const options = { host: url.hostname, port: Number(url.port), user, catalog: catalog || 'edge', schema: 'default', source: 'edge-it', checkInterval: 5, engine: 'trino', jsonParser: { parse: losslessParse } };
  if (password !== '-') options.basic_auth = { user, password };
  const c = new presto.Client(options);
  const result = { columns: null, rows: [], states: [], error: null, pages: 0 };
  c.execute({
    query: sql,
    state: (error, id, stats) => { result.states.push(stats.state); },
    columns: (error, columns) => { result.columns = columns.map(x => ({ name: x.name, type: x.type })); },
    data: (error, data) => { result.pages++; for (const row of data) result.rows.push(row); },
    success: () => print(result),
    error: (error) => { result.error = { message: error.message, errorName: error.errorName, errorType: error.errorType }; print(result); },
  });
}

if (client === 'presto') runPresto(); else runTrino();
