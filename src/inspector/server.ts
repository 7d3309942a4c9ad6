/**
 * `memtable-node inspector`: one local HTTP server that takes the nodes'
 * inspection events on WebSocket connections (the same events the Stately
 * relay takes, from `--inspect`) and serves the page that draws them.
 *
 *   GET /                 the page (page/html.ts)
 *   GET /<file>.js        the page's scripts, compiled next to this file (page/*.ts)
 *   GET /api/nodes        every node heard from (Registry.list)
 *   GET /api/nodes/<key>  one node: state, definition, summary, events (Registry.detail)
 *   WebSocket, any path   a process's inspection events, one JSON object a message
 *
 * Everything the page loads comes from this server: the Content-Security-Policy
 * forbids any other origin, so the page works with the network off.
 */
import { readFile } from 'node:fs/promises';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';
import { PAGE_CSS, PAGE_HTML } from './page/html.js';
import { Registry } from './registry.js';

/** Scripts of the page, served from the folder they compile to. */
const PAGE_SCRIPTS = new Set(['app.js', 'draw.js', 'diagram.js', 'lsm.js', 'format.js']);
const PAGE_DIR = new URL('./page/', import.meta.url);

const SECURITY_HEADERS = {
  'Content-Security-Policy': "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:",
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-store',
};

export interface InspectorServer {
  registry: Registry;
  /** The address it listens on: http://host:port/ for the page, ws://host:port for nodes. */
  host: string;
  port: number;
  close(): Promise<void>;
}

/** Starts the inspector on host:port (port 0: any free one); rejects if it cannot listen. */
export async function startInspectorServer(options: { host: string; port: number; now?: () => number }): Promise<InspectorServer> {
  const now = options.now ?? Date.now;
  const registry = new Registry();
  const http = createServer((request, response) => {
    serve(request, response, registry, now).catch((error: unknown) => send(response, 500, 'text/plain', String(error)));
  });
  await listen(http, options.host, options.port);
  // Attached once listening: it re-emits the server's errors, and a failed listen must reject, not throw.
  const sockets = new WebSocketServer({ server: http });
  sockets.on('error', () => undefined);
  sockets.on('connection', (socket) => {
    const connection = registry.connect();
    socket.on('message', (data) => registry.receive(connection, data.toString(), now()));
    socket.on('close', () => registry.disconnect(connection, now()));
    socket.on('error', () => socket.terminate());
  });
  const { port } = http.address() as AddressInfo;
  return {
    registry,
    host: options.host,
    port,
    async close() {
      for (const client of sockets.clients) client.terminate();
      sockets.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

function listen(http: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, host, () => {
      http.off('error', reject);
      resolve();
    });
  });
}

async function serve(request: IncomingMessage, response: ServerResponse, registry: Registry, now: () => number): Promise<void> {
  if (request.method !== 'GET' && request.method !== 'HEAD') return send(response, 405, 'text/plain', 'GET only\n');
  const path = new URL(request.url ?? '/', 'http://inspector').pathname;
  if (path === '/') return send(response, 200, 'text/html; charset=utf-8', PAGE_HTML);
  if (path === '/style.css') return send(response, 200, 'text/css; charset=utf-8', PAGE_CSS);
  if (path === '/api/nodes') return send(response, 200, 'application/json', JSON.stringify(registry.list()));
  if (path.startsWith('/api/nodes/')) {
    const detail = registry.detail(decodeURIComponent(path.slice('/api/nodes/'.length)), now());
    return detail === undefined ? send(response, 404, 'application/json', '{"error":"no such node"}') : send(response, 200, 'application/json', JSON.stringify(detail));
  }
  const script = path.slice(1);
  if (PAGE_SCRIPTS.has(script)) {
    let text: string;
    try {
      text = await readFile(fileURLToPath(new URL(script, PAGE_DIR)), 'utf8');
    } catch {
      return send(response, 404, 'text/plain', `${script} is not built; run npm run build\n`);
    }
    return send(response, 200, 'text/javascript; charset=utf-8', text);
  }
  send(response, 404, 'text/plain', 'not found\n');
}

function send(response: ServerResponse, status: number, type: string, body: string): void {
  response.writeHead(status, { 'Content-Type': type, ...SECURITY_HEADERS });
  response.end(body);
}
