/* The kiosk: a shop's tablet that collects walk-in customers' answers all day.
 *
 * - every survey language is already in the page; the language buttons show another one
 *   without the network (answers given so far move across);
 * - show-if rules (showif.js, loaded first) hide a question and disable its inputs, as on
 *   the survey page, so a hidden question's answer is never sent;
 * - "Send" posts the visible form's answers as JSON with a key made here, so sending the
 *   same answer again (a retry, a replay from the queue) never stores it twice;
 * - when the network or the server is down the answer waits in localStorage and the
 *   customer is thanked all the same; the queue is sent when the network returns, on the
 *   "online" event and every few seconds, and survives a reload (the service worker
 *   serves the page and its files from its cache while the server is unreachable);
 * - an answer bigger than the server takes (data-max-bytes; it says 413 too) is never
 *   queued: the customer is asked to shorten it. One found in the queue (left by an older
 *   page) is dropped alone, and the answers behind it are still sent;
 * - after the thank-you, and after a customer walks away mid-survey, the kiosk wipes the
 *   answers and starts again in the store's language for the next person.
 */
(function () {
  "use strict";
  var root = document.querySelector("[data-kiosk]");
  if (!root) return;

  var submitUrl = root.getAttribute("data-submit-url");
  var startLanguage = root.getAttribute("data-start-language");
  var idleMs = (parseInt(root.getAttribute("data-idle-reset-seconds"), 10) || 30) * 1000;
  var thanksMs = (parseInt(root.getAttribute("data-thanks-seconds"), 10) || 5) * 1000;
  var maxBytes = parseInt(root.getAttribute("data-max-bytes"), 10) || 0;
  var QUEUE_KEY = "chorus-kiosk-queue:" + submitUrl;
  var RETRY_EVERY_MS = 5000;
  var SEND_TIMEOUT_MS = 8000; // a customer waits this long at most before being thanked
  var FLUSH_TIMEOUT_MS = 15000;

  var panes = Array.prototype.slice.call(root.querySelectorAll("[data-kiosk-language]"));
  var languageButtons = Array.prototype.slice.call(
    root.querySelectorAll("[data-switch-language]")
  );
  var languageNav = root.querySelector(".kiosk-languages");
  var badge = document.getElementById("kiosk-queue");

  var state = "answering"; // answering | sending | thanks | off
  var current = null; // the pane on show
  var key = newKey(); // this customer's answer, whichever language it is sent in
  var idleTimer = null;
  var thanksTimer = null;

  // --- keys -----------------------------------------------------------------------------

  function newKey() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    // A version 4 UUID by hand where randomUUID is missing (an old tablet browser).
    var bytes = new Uint8Array(16);
    if (window.crypto && window.crypto.getRandomValues) {
      window.crypto.getRandomValues(bytes);
    } else {
      for (var i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map
      .call(bytes, function (b) {
        return (b + 0x100).toString(16).slice(1);
      })
      .join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  }

  // --- panes, one per language ------------------------------------------------------------

  function part(pane, name) {
    return pane.querySelector("[data-kiosk-" + name + "]");
  }

  function formOf(pane) {
    return pane.querySelector("form[data-kiosk-form]");
  }

  function paneFor(code) {
    return panes.filter(function (pane) {
      return pane.getAttribute("data-kiosk-language") === code;
    })[0];
  }

  function setDirection(pane) {
    var dir = pane.getAttribute("data-bidi");
    document.documentElement.lang = pane.getAttribute("data-kiosk-language");
    document.documentElement.dir = dir;
    document.querySelectorAll("link[data-kiosk-css]").forEach(function (link) {
      link.media = link.getAttribute("data-kiosk-css") === dir ? "all" : "not all";
    });
  }

  function show(code) {
    var pane = paneFor(code) || panes[0];
    if (!pane) return;
    if (current && current !== pane) copyAnswers(formOf(current), formOf(pane));
    panes.forEach(function (other) {
      other.hidden = other !== pane;
    });
    languageButtons.forEach(function (button) {
      var on = button.getAttribute("data-switch-language") === pane.getAttribute("data-kiosk-language");
      button.setAttribute("aria-pressed", on ? "true" : "false");
    });
    current = pane;
    setDirection(pane);
    window.ChorusShowIf.apply(formOf(pane));
  }

  // --- answers --------------------------------------------------------------------------

  function inputsOf(form) {
    return Array.prototype.slice.call(form.querySelectorAll("input, textarea, select"));
  }

  function asNumber(value) {
    var n = Number(value);
    return value !== "" && isFinite(n) ? n : value;
  }

  /* The visible form's answers: a radio as its number (score or choice id), boxes as a
   * list of ids, text as text. Questions hidden by a rule have disabled inputs: skipped. */
  function answersOf(form) {
    var answers = {};
    inputsOf(form).forEach(function (input) {
      var name = input.name;
      if (!name || name.indexOf("q_") !== 0 || input.disabled) return;
      if (input.type === "radio") {
        if (input.checked) answers[name] = asNumber(input.value);
      } else if (input.type === "checkbox") {
        if (input.checked) (answers[name] = answers[name] || []).push(asNumber(input.value));
      } else if (input.value.trim() !== "") {
        answers[name] = input.value;
      }
    });
    return answers;
  }

  function copyAnswers(from, to) {
    var answers = answersOf(from);
    inputsOf(to).forEach(function (input) {
      if (!input.name || input.name.indexOf("q_") !== 0) return;
      var given = answers[input.name];
      if (input.type === "radio" || input.type === "checkbox") {
        var chosen = Array.isArray(given) ? given : given === undefined ? [] : [given];
        input.checked = chosen.map(String).indexOf(input.value) !== -1;
      } else {
        input.value = given === undefined ? "" : given;
      }
    });
  }

  // --- errors from the server -------------------------------------------------------------

  function clearErrors(pane) {
    part(pane, "errors").hidden = true;
    part(pane, "error-lead").hidden = false;
    part(pane, "error-detail").textContent = "";
    pane.querySelectorAll(".question.has-error").forEach(function (question) {
      question.classList.remove("has-error");
      question.removeAttribute("aria-describedby");
      question.querySelectorAll("[aria-invalid]").forEach(function (input) {
        input.removeAttribute("aria-invalid");
      });
    });
    pane.querySelectorAll(".question .invalid-feedback").forEach(function (slot) {
      slot.textContent = "";
    });
  }

  function messageLine(text) {
    var p = document.createElement("p");
    var strong = document.createElement("strong");
    p.className = "mb-0";
    strong.textContent = text;
    p.appendChild(strong);
    return p;
  }

  function showErrors(pane, fields) {
    var code = pane.getAttribute("data-kiosk-language");
    var detail = part(pane, "error-detail");
    var first = null;
    Object.keys(fields || {}).forEach(function (name) {
      var messages = [].concat(fields[name]);
      var question = document.getElementById("div_" + code + "_" + name);
      var slot = document.getElementById(code + "_" + name + "_error");
      if (question && slot && !question.hidden) {
        question.classList.add("has-error");
        question.setAttribute("aria-describedby", slot.id);
        question.querySelectorAll("input, textarea, select").forEach(function (input) {
          input.setAttribute("aria-invalid", "true");
        });
        messages.forEach(function (text) {
          slot.appendChild(messageLine(text));
        });
        first = first || question;
      } else {
        messages.forEach(function (text) {
          detail.appendChild(messageLine(text));
        });
      }
    });
    part(pane, "errors").hidden = false;
    var target = first ? first.querySelector("legend, label") : part(pane, "errors");
    target.setAttribute("tabindex", "-1");
    target.scrollIntoView({ block: "center" });
    target.focus({ preventScroll: true });
  }

  /* Too much to send: one message (the server's, else the page's), nothing to mark. */
  function showTooLarge(pane, message) {
    var box = part(pane, "errors");
    part(pane, "error-lead").hidden = true;
    part(pane, "error-detail").appendChild(
      messageLine(message || pane.getAttribute("data-too-large-message"))
    );
    box.hidden = false;
    box.setAttribute("tabindex", "-1");
    box.scrollIntoView({ block: "center" });
    box.focus({ preventScroll: true });
  }

  // --- screens --------------------------------------------------------------------------

  function showThanks() {
    state = "thanks";
    clearTimeout(idleTimer);
    part(current, "survey").hidden = true;
    part(current, "thanks").hidden = false;
    if (languageNav) languageNav.hidden = true;
    window.scrollTo(0, 0);
    part(current, "thanks").focus();
    thanksTimer = setTimeout(startOver, thanksMs);
  }

  function showOff(message) {
    state = "off";
    clearTimeout(idleTimer);
    clearTimeout(thanksTimer);
    if (languageNav) languageNav.hidden = true;
    panes.forEach(function (pane) {
      part(pane, "survey").hidden = true;
      part(pane, "thanks").hidden = true;
      part(pane, "off").hidden = false;
      part(pane, "off").querySelector("h2").textContent =
        message || pane.getAttribute("data-off-message");
    });
  }

  /* Ready for the next customer: nothing of the last one's answers is left. */
  function startOver() {
    if (state === "off") return;
    clearTimeout(idleTimer);
    clearTimeout(thanksTimer);
    panes.forEach(function (pane) {
      var form = formOf(pane);
      form.reset();
      clearErrors(pane);
      window.ChorusShowIf.apply(form);
      part(pane, "survey").hidden = false;
      part(pane, "thanks").hidden = true;
      var button = form.querySelector("[type=submit]");
      if (button) button.disabled = false;
    });
    if (languageNav) languageNav.hidden = false;
    current = null;
    show(startLanguage);
    key = newKey();
    state = "answering";
    if (document.activeElement && document.activeElement.blur) document.activeElement.blur();
    window.scrollTo(0, 0);
  }

  function touched() {
    if (state !== "answering") return;
    clearTimeout(idleTimer);
    idleTimer = setTimeout(startOver, idleMs);
  }

  // --- sending --------------------------------------------------------------------------

  function post(payload, timeoutMs) {
    var controller = typeof AbortController === "function" ? new AbortController() : null;
    var timer = controller
      ? setTimeout(function () {
          controller.abort();
        }, timeoutMs)
      : null;
    function done(result) {
      clearTimeout(timer);
      return result;
    }
    return fetch(submitUrl, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        // The server words its messages in this language, not the tablet's.
        "Accept-Language": payload.language,
      },
      body: JSON.stringify(payload),
      credentials: "omit",
      cache: "no-store",
      // A portal or proxy that redirects is not the server: keep the answer.
      redirect: "manual",
      signal: controller ? controller.signal : undefined,
    })
      .then(function (response) {
        return response
          .json()
          .catch(function () {
            return {};
          })
          .then(function (body) {
            return {
              status: response.status,
              body: body || {},
              retryAfter: response.headers.get("Retry-After"),
            };
          });
      })
      .then(done, function () {
        return done({ status: 0, body: {} });
      });
  }

  /* Bytes on the wire: the server's limit counts UTF-8, not characters. */
  function tooLarge(payload) {
    if (!maxBytes) return false;
    var body = JSON.stringify(payload);
    var size =
      typeof TextEncoder === "function"
        ? new TextEncoder().encode(body).length
        : unescape(encodeURIComponent(body)).length;
    return size > maxBytes;
  }

  /* stored | retry | gone | too_large | invalid | refused */
  function outcomeOf(result) {
    var status = result.status;
    if (status === 413) return "too_large";
    if ((status === 200 || status === 201) && result.body.id !== undefined) return "stored";
    if (status === 0 || status === 408 || status === 429 || status >= 500) return "retry";
    if (status >= 200 && status < 300) return "retry"; // not our server's answer
    if (status === 404 || status === 410) return "gone";
    if (status === 400) return "invalid";
    return "refused";
  }

  function offMessage(result) {
    return result.body.error === "survey_closed" ? result.body.message : "";
  }

  function onSubmit(event) {
    event.preventDefault();
    if (state !== "answering") return;
    var pane = current;
    var form = formOf(pane);
    var button = form.querySelector("[type=submit]");
    var payload = {
      idempotency_key: key,
      language: pane.getAttribute("data-kiosk-language"),
      answers: answersOf(form),
    };
    clearErrors(pane);
    if (tooLarge(payload)) {
      // Queued, it could never be sent; the customer can still shorten it.
      showTooLarge(pane, "");
      touched();
      return;
    }
    state = "sending";
    clearTimeout(idleTimer);
    if (button) button.disabled = true;
    var sent =
      navigator.onLine === false
        ? Promise.resolve({ status: 0, body: {} })
        : post(payload, SEND_TIMEOUT_MS);
    sent.then(function (result) {
      if (button) button.disabled = false;
      var outcome = outcomeOf(result);
      if (outcome === "stored") {
        showThanks();
        flush();
      } else if (outcome === "retry") {
        enqueue(payload);
        showThanks();
      } else if (outcome === "gone") {
        showOff(offMessage(result));
      } else if (outcome === "too_large") {
        state = "answering";
        showTooLarge(pane, result.body.message);
        touched();
      } else {
        // The customer can put it right: the answers stay, each message at its question.
        if (outcome === "refused") console.warn("Chorus kiosk: answer refused", result);
        state = "answering";
        showErrors(pane, result.body.fields || {});
        touched();
      }
    });
  }

  // --- the queue of answers that could not be sent ------------------------------------------

  function readQueue() {
    try {
      var queue = JSON.parse(window.localStorage.getItem(QUEUE_KEY) || "[]");
      return Array.isArray(queue) ? queue : [];
    } catch (error) {
      return [];
    }
  }

  function writeQueue(queue) {
    try {
      if (queue.length) window.localStorage.setItem(QUEUE_KEY, JSON.stringify(queue));
      else window.localStorage.removeItem(QUEUE_KEY);
    } catch (error) {
      console.error("Chorus kiosk: could not keep the unsent answers", error);
    }
    showQueue();
  }

  function enqueue(payload) {
    var queue = readQueue();
    var known = queue.some(function (item) {
      return item.idempotency_key === payload.idempotency_key;
    });
    if (!known) queue.push(payload);
    writeQueue(queue);
  }

  function dequeue(idempotencyKey) {
    writeQueue(
      readQueue().filter(function (item) {
        return item.idempotency_key !== idempotencyKey;
      })
    );
  }

  function showQueue() {
    if (!badge) return;
    var waiting = readQueue().length;
    badge.hidden = waiting === 0;
    badge.textContent = badge.getAttribute("data-template").replace("%(n)s", waiting);
    badge.setAttribute("data-waiting", String(waiting));
  }

  var flushing = false;
  var notBefore = 0;

  /* Send the waiting answers oldest first. Each keeps its key: one the server already has
   * (its reply to an earlier try was lost) answers 200 and leaves the queue. */
  function flush() {
    if (flushing || Date.now() < notBefore || navigator.onLine === false) return;
    var keys = readQueue().map(function (item) {
      return item.idempotency_key;
    });
    if (!keys.length) return;
    flushing = true;
    (function next(i) {
      if (i >= keys.length) {
        flushing = false;
        return;
      }
      var item = readQueue().filter(function (queued) {
        return queued.idempotency_key === keys[i];
      })[0];
      if (!item) return next(i + 1);
      if (tooLarge(item)) {
        // The server would refuse it every time: it must not hold up the others.
        console.warn("Chorus kiosk: a waiting answer is too large to send; dropped", item);
        dequeue(item.idempotency_key);
        return next(i + 1);
      }
      post(item, FLUSH_TIMEOUT_MS).then(function (result) {
        var outcome = outcomeOf(result);
        if (outcome === "stored") {
          dequeue(item.idempotency_key);
        } else if (outcome === "retry") {
          if (result.status === 429) {
            notBefore = Date.now() + (parseInt(result.retryAfter, 10) || 60) * 1000;
          }
          // Still unreachable, or told to wait: the rest would fare no better.
          if (result.status === 0 || result.status === 429) {
            flushing = false;
            return;
          }
        } else {
          console.warn("Chorus kiosk: a waiting answer was refused and dropped", result, item);
          dequeue(item.idempotency_key);
          if (outcome === "gone" && result.body.error === "kiosk_revoked") showOff("");
        }
        next(i + 1);
      });
    })(0);
  }

  // --- wiring ---------------------------------------------------------------------------

  panes.forEach(function (pane) {
    var form = formOf(pane);
    form.addEventListener("submit", onSubmit);
    form.addEventListener("change", function () {
      window.ChorusShowIf.apply(form);
    });
  });
  languageButtons.forEach(function (button) {
    button.addEventListener("click", function () {
      if (state === "answering") show(button.getAttribute("data-switch-language"));
    });
  });
  ["pointerdown", "keydown", "input", "change", "touchstart", "wheel"].forEach(function (type) {
    document.addEventListener(type, touched, { capture: true, passive: true });
  });
  // A tablet browser not started in kiosk mode gets full screen at the first tap (the
  // browser only grants it in answer to one).
  document.addEventListener(
    "click",
    function () {
      var page = document.documentElement;
      if (!document.fullscreenEnabled || document.fullscreenElement || !page.requestFullscreen) {
        return;
      }
      page.requestFullscreen({ navigationUI: "hide" }).catch(function () {});
    },
    { capture: true, once: true }
  );
  window.addEventListener("online", flush);
  window.addEventListener("storage", function (event) {
    if (event.key === QUEUE_KEY) showQueue();
  });
  setInterval(flush, RETRY_EVERY_MS);

  if (panes.length) {
    show(startLanguage);
  }
  showQueue();
  flush();

  if ("serviceWorker" in navigator && window.isSecureContext) {
    navigator.serviceWorker
      .register(root.getAttribute("data-sw-url"), {
        scope: root.getAttribute("data-scope"),
        updateViaCache: "none",
      })
      .catch(function (error) {
        console.warn("Chorus kiosk: no offline copy of this page", error);
      });
  }
})();
