// The till's service worker: keeps the till page and its static files so that a reload while the
// server is unreachable still opens the till (which then answers from its offline card list).
// Served by checkout.views.service_worker at /till/sw.js, which writes TILL_CACHE (a version)
// and TILL_URLS (the page first, then its static files) in front of this file.
/* global TILL_CACHE, TILL_URLS */
"use strict";

const PAGE = TILL_URLS[0];
const NETWORK_WAIT_MS = 4000;

async function keep(cache, url, response) {
  if (response && response.ok && !response.redirected && response.type === "basic") {
    await cache.put(url, response.clone());
  }
  return response;
}

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(TILL_CACHE);
    await Promise.all(TILL_URLS.map(async (url) => {
      try {
        await keep(cache, url, await fetch(url, { credentials: "same-origin", cache: "no-cache" }));
      } catch (error) { /* kept on the next visit */ }
    }));
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    await Promise.all(names.filter((name) => name.startsWith("till-") && name !== TILL_CACHE).map((name) => caches.delete(name)));
    await self.clients.claim();
  })());
});

// Network first (the page must be fresh when the server answers), the kept copy when it does not.
async function networkFirst(request, key) {
  const cache = await caches.open(TILL_CACHE);
  const cached = await cache.match(key);
  const network = fetch(request).then((response) => keep(cache, key, response));
  if (!cached) { return network; }
  const timeout = new Promise((resolve) => setTimeout(() => resolve(cached), NETWORK_WAIT_MS));
  return Promise.race([network.catch(() => cached), timeout]);
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") { return; }
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (request.mode === "navigate" && url.pathname === PAGE) {
    event.respondWith(networkFirst(request, PAGE));
  } else if (TILL_URLS.indexOf(url.pathname) > 0) {
    event.respondWith(networkFirst(request, url.pathname));
  }
  // Anything else (the API above all) goes to the network untouched.
});
