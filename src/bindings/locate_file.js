// Resolve the .wasm next to the .mjs (or at Module.wasmUrl when given), whatever
// the current directory or page URL. Under Node the loader wants a file path.
// (_scriptDir is Emscripten's copy of import.meta.url; this file is minified by
// a terser that cannot print import.meta itself.)
if (!Module['locateFile']) {
  Module['locateFile'] = function (path) {
    var url = (Module['wasmUrl'] && path.endsWith('.wasm')) ? String(Module['wasmUrl']) : new URL(path, _scriptDir).href;
    if (__attnIsNode && url.startsWith('file:')) return __attnFileURLToPath(url);
    return url;
  };
}
