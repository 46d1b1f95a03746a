/* The door page's service worker, served at /staff/door/sw.js (ticketing/staff/door.py) so its
   scope is /staff/door/. It keeps the page and the files it loads (scripts, styles, the QR
   reader and its WebAssembly) so that the door reloads when the network is gone: network first,
   the kept copy when the network fails. It never touches the API: the page keeps the keys and
   ticket lists itself, and its check-ins must reach the server or be queued by the page. */
"use strict";

var CACHE = "marquee-door-v1";
var PAGES = ["/staff/door/", "/staff/door/device/"];

self.addEventListener("install", function () {
  self.skipWaiting();
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (n) {
        return n.indexOf("marquee-door-") === 0 && n !== CACHE;
      }).map(function (n) { return caches.delete(n); }));
    }).then(function () { return self.clients.claim(); })
  );
});

function kept(request) {
  var url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return false;
  if (url.pathname.indexOf("/api/") === 0) return false;
  // The page itself, and the static files a page in this scope asks for.
  return PAGES.indexOf(url.pathname) >= 0 || url.pathname.indexOf("/static/") === 0;
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (!kept(request)) return;
  var path = new URL(request.url).pathname;
  var isPage = PAGES.indexOf(path) >= 0;
  event.respondWith(
    fetch(request).then(function (response) {
      // Only a real page is kept: not the sign-in a lapsed session is sent to.
      if (response.ok && !response.redirected && response.type === "basic") {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) {
          return cache.put(isPage ? path : request, copy);
        });
      }
      return response;
    }).catch(function () {
      return caches.open(CACHE).then(function (cache) {
        return cache.match(isPage ? path : request, { ignoreSearch: isPage });
      }).then(function (hit) {
        return hit || Response.error();
      });
    })
  );
});
