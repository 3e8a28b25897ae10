// A static file server for the playground: the built site (scripts/build_web.mjs,
// build/site) at /. Binds 127.0.0.1 only. No dependencies.
//   node scripts/serve.mjs [--port N] [--dir DIR]   (default 8080, or the next free port)
import { createServer } from 'node:http';
import { createReadStream, statSync } from 'node:fs';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** The playground's mounts: URL prefix -> directory (first match wins). */
export const defaultMounts = [['/', join(root, 'build/site')]];
const types = {
  '.html': 'text/html; charset=utf-8', '.mjs': 'text/javascript', '.js': 'text/javascript',
  '.css': 'text/css', '.json': 'application/json', '.wasm': 'application/wasm', '.svg': 'image/svg+xml',
  '.png': 'image/png', '.safetensors': 'application/octet-stream', '.ts': 'text/plain',
};

/**
 * The file a URL path names, or null when no mount holds it (including paths that
 * would escape their mount, e.g. `/../x` or `/%2e%2e/x`). Throws a URIError for
 * malformed percent-encoding (`/%E0%A4`): the caller answers 400.
 */
export function resolvePath(urlPath, mounts = defaultMounts) {
  const path = decodeURIComponent(urlPath.split('?')[0]);
  for (const [prefix, mountDir] of mounts) {
    if (!path.startsWith(prefix)) continue;
    let dir = normalize(mountDir);
    if (dir.length > 1 && dir.endsWith(sep)) dir = dir.slice(0, -1);  // 'web/' and 'web' alike
    const file = normalize(join(dir, path.slice(prefix.length)));
    if (file !== dir && !file.startsWith(dir + sep)) return null;  // no escaping the mount
    return file;
  }
  return null;
}

export function startServer({ port = 8080, host = '127.0.0.1', mounts = defaultMounts } = {}) {
  const server = createServer((req, res) => {
    let file;
    try {
      file = resolvePath(req.url, mounts);
    } catch {
      res.writeHead(400, { 'Content-Type': 'text/plain' });
      res.end('bad request\n');
      return;
    }
    try {
      if (file && statSync(file).isDirectory()) file = join(file, 'index.html');
      const st = file && statSync(file);
      if (!st || !st.isFile()) throw new Error('not found');
      res.writeHead(200, { 'Content-Type': types[extname(file)] || 'application/octet-stream', 'Content-Length': st.size,
        'Cache-Control': 'no-cache' });
      // A read error after the headers went out (file deleted meanwhile) must not kill the server.
      createReadStream(file).on('error', () => res.destroy()).pipe(res);
    } catch {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not found\n');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--port'), d = process.argv.indexOf('--dir');
  let port = Number(i > 0 ? process.argv[i + 1] : process.env.PORT || 8080);
  const mounts = d > 0 ? [['/', process.argv[d + 1]]] : defaultMounts;
  for (let tries = 0; ; ++tries) {
    try {
      const server = await startServer({ port, mounts });
      console.log(`Attention Playground: http://127.0.0.1:${server.address().port}/  (Ctrl+C to stop)`);
      break;
    } catch (e) {
      if (e.code !== 'EADDRINUSE' || tries > 20) throw e;
      port += 1;
    }
  }
}
