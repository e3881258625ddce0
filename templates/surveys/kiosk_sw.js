{% load static %}{% autoescape off %}/* Chorus kiosk service worker, scoped to one kiosk's own path.
 *
 * The kiosk page and its files stay usable with the server unreachable: a reload then
 * still shows the survey, and the answers waiting in the page's storage are sent once the
 * server answers again. The page is fetched network first (so a change to the survey
 * shows at once) and falls back to the copy kept here; the static files are cache first
 * (their URLs change when their contents do). Answers (POST) are never touched here.
 */
"use strict";

var CACHE = "chorus-kiosk-{{ channel.pk }}";
var PAGE = "{{ page_url|escapejs }}";
var ASSETS = [
  "{% filter escapejs %}{% static 'vendor/bootstrap/bootstrap.min.css' %}{% endfilter %}",
  "{% filter escapejs %}{% static 'vendor/bootstrap/bootstrap.rtl.min.css' %}{% endfilter %}",
  "{% filter escapejs %}{% static 'css/chorus.css' %}{% endfilter %}",
  "{% filter escapejs %}{% static 'css/kiosk.css' %}{% endfilter %}",
  "{% filter escapejs %}{% static 'js/showif.js' %}{% endfilter %}",
  "{% filter escapejs %}{% static 'js/kiosk.js' %}{% endfilter %}",
  "{% filter escapejs %}{% static 'img/favicon.svg' %}{% endfilter %}",
];

// Compared in full, so a STATIC_URL on another host is recognised too.
var ASSET_URLS = ASSETS.map(function (url) {
  return new URL(url, self.location.href).href;
});

function fresh(url) {
  return new Request(url, { cache: "reload", credentials: "omit" });
}

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches
      .open(CACHE)
      .then(function (cache) {
        return cache.addAll(ASSETS.map(fresh)).then(function () {
          return fetch(fresh(PAGE)).then(function (response) {
            if (response.ok) return cache.put(PAGE, response);
          });
        });
      })
      .then(function () {
        return self.skipWaiting();
      })
  );
});

self.addEventListener("activate", function (event) {
  // Files of an earlier deploy (other hashed URLs) are dropped; the page takes over the
  // kiosk tab at once, so the first visit is already covered.
  var keep = ASSETS.concat([PAGE]).map(function (url) {
    return new URL(url, self.location.href).href;
  });
  event.waitUntil(
    caches
      .open(CACHE)
      .then(function (cache) {
        return cache.keys().then(function (requests) {
          return Promise.all(
            requests
              .filter(function (request) {
                return keep.indexOf(request.url) === -1;
              })
              .map(function (request) {
                return cache.delete(request);
              })
          );
        });
      })
      .then(function () {
        return self.clients.claim();
      })
  );
});

function cachedPage(fallback) {
  return caches
    .open(CACHE)
    .then(function (cache) {
      return cache.match(PAGE);
    })
    .then(function (hit) {
      return hit || fallback || Response.error();
    });
}

function pageNetworkFirst(request, url) {
  return fetch(request).then(
    function (response) {
      if (response.ok && url.pathname === PAGE && !url.search) {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) {
          return cache.put(PAGE, copy);
        });
      } else if (response.status === 404 || response.status === 410) {
        // Switched off or gone: no copy may bring it back while the network is down.
        caches.delete(CACHE);
        self.registration.unregister();
      } else if (response.status >= 500) {
        return cachedPage(response);
      }
      return response;
    },
    function () {
      return cachedPage();
    }
  );
}

function assetCacheFirst(request) {
  return caches.open(CACHE).then(function (cache) {
    return cache.match(request, { ignoreSearch: true }).then(function (hit) {
      return (
        hit ||
        fetch(request).then(function (response) {
          if (response.ok) cache.put(request, response.clone());
          return response;
        })
      );
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin === self.location.origin && url.pathname === PAGE) {
    event.respondWith(pageNetworkFirst(request, url));
  } else if (ASSET_URLS.indexOf(url.origin + url.pathname) !== -1) {
    event.respondWith(assetCacheFirst(request));
  }
});
{% endautoescape %}
