// Resolve the .wasm next to the .mjs (or at Module.wasmUrl when given), whatever
// the current directory or page URL. Under Node, read it here and hand the bytes
// to the loader (wasmBinary), which then never calls fetch() on a file path.
// (_scriptDir is Emscripten's copy of import.meta.url; this file is minified by
// a terser that cannot print import.meta itself.)
if (!Module['locateFile']) {
  Module['locateFile'] = function (path) {
    var url = (Module['wasmUrl'] && path.endsWith('.wasm')) ? String(Module['wasmUrl']) : new URL(path, _scriptDir).href;
    if (__attnIsNode && url.startsWith('file:')) return __attnFileURLToPath(url);
    return url;
  };
}
if (__attnIsNode && !Module['wasmBinary']) {
  Module['wasmBinary'] = require('fs').readFileSync(Module['locateFile']('attention_playground.wasm', ''));
}
