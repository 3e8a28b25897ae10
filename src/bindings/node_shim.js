// Emscripten 3.1.6's ES6 loader under Node 20: the generated code uses
// `require` and `__dirname`, which ES modules lack. Provide them under Node only
// (the `var`s are hoisted but stay undefined elsewhere, where nothing reads them).
// The .wasm itself is read in locate_file.js, so Node's fetch() is never asked
// to load a file path.
var __attnIsNode = typeof process === 'object' && typeof process.versions === 'object' &&
  typeof process.versions.node === 'string' && typeof window === 'undefined' && typeof importScripts !== 'function';
var __attnFileURLToPath = null;
if (__attnIsNode) {
  // Specifiers in variables: bundlers (Vite, webpack) then leave these Node-only imports alone.
  const nodeModule = 'node:module', nodeUrl = 'node:url';
  const { createRequire } = await import(/* @vite-ignore */ /* webpackIgnore: true */ nodeModule);
  var require = createRequire(import.meta.url);
  __attnFileURLToPath = (await import(/* @vite-ignore */ /* webpackIgnore: true */ nodeUrl)).fileURLToPath;
  var __dirname = __attnFileURLToPath(new URL('.', import.meta.url));
}
