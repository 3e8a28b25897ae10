// Emscripten 3.1.6's ES6 loader under Node 20: the generated code uses
// `require` and `__dirname` (absent in ES modules) and calls the global fetch()
// on a file path. Under Node only, provide the first two and hide fetch so the
// loader reads the .wasm from disk. In browsers and workers this does nothing.
var __attnIsNode = typeof process === 'object' && typeof process.versions === 'object' &&
  typeof process.versions.node === 'string' && typeof window === 'undefined';
var __attnFileURLToPath = null;
if (__attnIsNode) {
  const { createRequire } = await import('node:module');
  var require = createRequire(import.meta.url);
  __attnFileURLToPath = (await import('node:url')).fileURLToPath;
  var __dirname = __attnFileURLToPath(new URL('.', import.meta.url));
  var fetch = undefined;
}
