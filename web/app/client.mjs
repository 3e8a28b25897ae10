// The page's side of worker.mjs: one promise per request, progress callbacks while a model
// downloads, and an Error (with the worker's name and message) when a request fails.
export class EngineClient {
  #worker;
  #next = 1;
  #pending = new Map();

  constructor(workerUrl = new URL('./worker.mjs', import.meta.url)) {
    this.#worker = new Worker(workerUrl, { type: 'module' });
    this.#worker.onmessage = ({ data }) => {
      const p = this.#pending.get(data.id);
      if (!p) return;
      if (data.progress) { p.onProgress?.(data.progress); return; }
      this.#pending.delete(data.id);
      if (data.ok) p.resolve(data.result);
      else p.reject(Object.assign(new Error(data.error.message), { name: data.error.name }));
    };
    this.#worker.onerror = (e) => {
      const err = new Error(`the engine's worker failed: ${e.message || 'could not start'}`);
      for (const p of this.#pending.values()) p.reject(err);
      this.#pending.clear();
    };
  }

  /** Sends one request; `transfer` lists ArrayBuffers to move rather than copy. */
  request(op, args = {}, { onProgress, transfer = [] } = {}) {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, onProgress });
      this.#worker.postMessage({ id, op, ...args }, transfer);
    });
  }
}
