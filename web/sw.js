// The playground's service worker: after the first visit the site works offline. Every
// request to this origin goes to the network first (so a rebuilt site is picked up at once)
// and its answer is kept; when the network is gone the kept copy answers. Requests to other
// origins are not touched (the page makes none).
const CACHE = 'attention-playground-v1';

self.addEventListener('install', (event) => {
  // The shell the first paint needs; the rest (models, engine) is kept as the page fetches it.
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(['./', 'index.html', 'style.css', 'app/views/views.css',
    'app/main.mjs', 'models/index.json'])).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys().then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== self.location.origin) return;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    try {
      const response = await fetch(event.request);
      if (response.ok) await cache.put(event.request, response.clone());
      return response;
    } catch (e) {
      const kept = await cache.match(event.request, { ignoreSearch: true });
      if (kept) return kept;
      throw e;
    }
  })());
});
