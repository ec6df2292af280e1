// The cashier screen (templates/checkout/till.html). Keyboard first: a USB scanner types the
// digits then Enter into #scan; the answer comes from GET /api/v1/checkout/{code}/ and fills the
// screen in green, orange or red; Escape clears. When the server cannot be reached, answers come
// from the card list kept on this device (refreshed on load and every 5 minutes, with If-None-Match
// and ?since= so that an unchanged list costs a 304 and a changed one only its changes), marked
// offline; the list's cards carry no sentence, so the sentence is written here from the page's texts.
// Every word shown comes from the page (#till-texts, translated by Django): none is written here.
(function () {
  "use strict";

  const root = document.getElementById("till");
  if (!root) { return; }

  const T = JSON.parse(document.getElementById("till-texts").textContent);
  const API = root.dataset.api;
  const CARDS_URL = root.dataset.cardsUrl;
  const LOG_URL = root.dataset.logUrl;
  const PENDING_KEY = "coopmarket.till.pending"; // answers given offline, sent to the check log later
  const OVERRIDE_ALLOWED = root.dataset.override === "1";
  const LANG = document.documentElement.lang || undefined;
  const STORE_KEY = "coopmarket.till.cards";
  const USER = root.dataset.user || "";
  const REFRESH_MS = 5 * 60 * 1000;
  const LOOKUP_TIMEOUT_MS = 5000;
  const RECENT_MAX = 10;
  const csrfInput = root.querySelector("input[name=csrfmiddlewaretoken]");
  const csrfToken = csrfInput ? csrfInput.value : "";

  const $ = (id) => document.getElementById(id);
  const scan = $("scan");
  const scanForm = $("scan-form");
  const panel = $("answer");
  const verdict = $("answer-verdict");
  const nameEl = $("answer-name");
  const metaEl = $("answer-meta");
  const reasonsEl = $("answer-reasons");
  const messageEl = $("answer-message");
  const offlineEl = $("answer-offline");
  const noteEl = $("answer-note");
  const search = $("search");
  const searchNote = $("search-note");
  const results = $("search-results");
  const recent = $("recent");
  const listStatus = $("list-status");
  const overrideOpen = $("override-open");
  const overrideForm = $("override-form");
  const overrideReason = $("override-reason");
  const overrideCancel = $("override-cancel");
  const idleVerdict = verdict.textContent;

  // --- small helpers ----------------------------------------------------------------------------

  function fmt(text, values) {
    return String(text).replace(/%\((\w+)\)s/g, (match, key) => (key in values ? String(values[key]) : match));
  }

  function formatDate(iso) { // "30 March", like the server's messages
    const match = /^(\d{4})-(\d\d)-(\d\d)$/.exec(iso || "");
    if (!match) { return iso || "?"; }
    return parseInt(match[3], 10) + " " + T.months[parseInt(match[2], 10) - 1];
  }

  function formatTime(iso) {
    const date = new Date(iso);
    if (isNaN(date)) { return iso || "?"; }
    const today = new Date().toDateString() === date.toDateString();
    return today
      ? date.toLocaleTimeString(LANG, { hour: "2-digit", minute: "2-digit", hour12: false })
      : date.toLocaleString(LANG, { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", hour12: false });
  }

  function foldName(text) {
    return String(text || "").normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase().replace(/\s+/g, " ").trim();
  }

  function focusScan() {
    scan.value = "";
    scan.focus();
  }

  function fetchWithTimeout(url, options, ms) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), ms);
    return fetch(url, Object.assign({ credentials: "same-origin", signal: controller.signal }, options))
      .finally(() => clearTimeout(timer));
  }

  // --- the offline card list ----------------------------------------------------------------------
  // Stored compactly (one array per card) so that 10,000 cards fit in the browser's storage.

  let cards = null; // {generatedAt, checkedAt, etag, list, byBarcode, byNumber}

  function compactCard(c) {
    return [c.card_barcode, c.display_name, c.associate ? 1 : 0, c.can_shop ? 1 : 0, c.status, c.reasons, c.warnings, c.colour];
  }

  function memberNumberOf(barcode) {
    // Cards issued here are 0420 + the member number on 8 digits + a check digit.
    return /^0420\d{9}$/.test(barcode) ? parseInt(barcode.slice(4, 12), 10) : null;
  }

  function expand(row) {
    const card = {
      card_barcode: row[0], display_name: row[1], associate: !!row[2], can_shop: !!row[3],
      status: row[4], reasons: row[5] || [], warnings: row[6] || [], colour: row[7],
    };
    card.member_number = card.associate ? null : memberNumberOf(card.card_barcode);
    return card;
  }

  function useCards(stored) {
    const list = stored.cards.map(expand);
    const byBarcode = new Map();
    const byNumber = new Map();
    list.forEach((card) => {
      byBarcode.set(card.card_barcode, card);
      if (card.member_number) { byNumber.set(card.member_number, card); }
    });
    cards = { generatedAt: stored.generated_at, checkedAt: stored.checked_at || stored.generated_at, etag: stored.etag || "", list, byBarcode, byNumber };
    root.dataset.cardsAt = stored.generated_at;
  }

  function storedForm() {
    return { generated_at: cards.generatedAt, checked_at: cards.checkedAt, etag: cards.etag, user: USER, cards: cards.list.map(compactCard) };
  }

  function saveCards() {
    try {
      window.localStorage.setItem(STORE_KEY, JSON.stringify(storedForm()));
    } catch (error) { // quota: keep the list in memory for this page
      listStatus.textContent += " — " + T.list_too_big;
    }
  }

  function showListStatus(ok) {
    if (!CARDS_URL) {
      listStatus.textContent = T.list_online_only;
    } else if (!cards) {
      listStatus.textContent = T.list_none;
    } else if (ok) {
      listStatus.textContent = fmt(T.list_ok, { count: cards.list.length, time: formatTime(cards.checkedAt) });
    } else {
      listStatus.textContent = fmt(T.list_failed, { time: formatTime(cards.checkedAt) });
    }
  }

  function forgetCards() {
    cards = null;
    try { window.localStorage.removeItem(STORE_KEY); } catch (error) { /* nothing kept */ }
  }

  function loadStoredCards() {
    // Only a till device or a coordinator keeps the list, and only the account that fetched it.
    if (!CARDS_URL) { forgetCards(); return; }
    try {
      const raw = window.localStorage.getItem(STORE_KEY);
      const stored = raw ? JSON.parse(raw) : null;
      if (stored && stored.user === USER) { useCards(stored); } else if (stored) { forgetCards(); }
    } catch (error) {
      forgetCards();
    }
  }

  // The list held, merged with what changed: `full` replaces it, otherwise changed cards replace
  // theirs and `removed` barcodes go.
  function mergeCards(data, etag) {
    let rows;
    if (data.full || !cards) {
      rows = data.cards.map(compactCard);
    } else {
      const byCode = new Map(cards.list.map((card) => [card.card_barcode, compactCard(card)]));
      (data.removed || []).forEach((barcode) => byCode.delete(barcode));
      data.cards.forEach((card) => byCode.set(card.card_barcode, compactCard(card)));
      rows = Array.from(byCode.values());
    }
    useCards({ generated_at: data.generated_at, checked_at: new Date().toISOString(), etag, cards: rows });
  }

  function refreshCards() {
    if (!CARDS_URL) { return Promise.resolve(); }
    const headers = { Accept: "application/json" };
    let url = CARDS_URL;
    if (cards && cards.etag) {
      headers["If-None-Match"] = cards.etag;
      url += (url.indexOf("?") < 0 ? "?" : "&") + "since=" + encodeURIComponent(cards.generatedAt);
    }
    return fetchWithTimeout(url, { headers, cache: "no-store" }, 60000)
      .then((response) => {
        if (response.status === 401 || response.status === 403) { forgetCards(); }
        if (response.status === 304 && cards) { return { unchanged: true }; }
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json().then((data) => ({ data, etag: response.headers.get("ETag") || "" }));
      })
      .then((result) => {
        flushPending();
        if (result.unchanged) {
          cards.checkedAt = new Date().toISOString();
        } else {
          mergeCards(result.data, result.etag);
        }
        root.dataset.cardsChecked = cards.checkedAt;
        showListStatus(true);
        saveCards();
      })
      .catch(() => showListStatus(false));
  }

  function normaliseCode(code) {
    // A 12-digit scan is an EAN-13 whose leading 0 the scanner dropped (cards issued here, and
    // cards a coop kept from its previous system).
    if (/^\d{12}$/.test(code)) { return "0" + code; }
    return code;
  }

  function offlineAnswer(code) {
    if (!cards) { return null; }
    const card = normaliseCode(code);
    if (/^\d{13}$/.test(card)) { return cards.byBarcode.get(card) || null; }
    if (/^\d{1,8}$/.test(code) && parseInt(code, 10) > 0) { return cards.byNumber.get(parseInt(code, 10)) || null; }
    return null;
  }

  // --- answers given offline go to the server's check log once it is back ------------------------

  function pendingChecks() {
    try { return JSON.parse(window.localStorage.getItem(PENDING_KEY) || "[]"); } catch (error) { return []; }
  }

  function keepPending(list) {
    try { window.localStorage.setItem(PENDING_KEY, JSON.stringify(list.slice(-5000))); } catch (error) { /* full: keep what fits */ }
  }

  function newId() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
  }

  function rememberOffline(code, answer, source) {
    const list = pendingChecks();
    list.push({
      id: newId(), code: String(code).slice(0, 64), checked_at: new Date().toISOString(), source: source || "scan",
      can_shop: answer ? answer.can_shop : null, status: answer ? answer.status : "", reasons: answer ? answer.reasons : [],
    });
    keepPending(list);
    root.dataset.pending = String(list.length);
  }

  let flushing = false;

  async function flushPending() {
    const list = pendingChecks();
    if (!LOG_URL || flushing || !list.length) { return; }
    flushing = true;
    const batch = list.slice(0, 500);
    try {
      const response = await fetchWithTimeout(LOG_URL, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken },
        body: JSON.stringify({ checks: batch }),
      }, LOOKUP_TIMEOUT_MS);
      if (response.status === 201 || response.status === 400) { // 400: too old or malformed, never accepted: drop
        const sent = new Set(batch.map((entry) => entry.id));
        const rest = pendingChecks().filter((entry) => !sent.has(entry.id));
        keepPending(rest);
        root.dataset.pending = String(rest.length);
      }
    } catch (error) { /* still offline: next time */ }
    flushing = false;
  }

  // --- showing an answer ------------------------------------------------------------------------

  // The sentence the cashier reads aloud, for a card of the offline list (the server writes it for
  // online answers): the same words as checkout/eligibility.py's message(), from the page's texts.
  function sentence(answer) {
    const S = T.sentences;
    const name = answer.display_name;
    if (!answer.can_shop) {
      const reasons = answer.reasons || [];
      const why = reasons.map((code) => S.why[code] || code).join(", ");
      const todo = reasons.length ? (S.todo[reasons[0]] || "") : "";
      return fmt(S.refused, { name, why, todo });
    }
    for (const warning of answer.warnings || []) {
      if (warning.code === "alert") {
        const n = warning.makeups_owed || 0;
        return fmt(S.alert[Math.min(n, 2)], { name, n, date: formatDate(warning.deadline) });
      }
      if (warning.code === "delay") { return fmt(S.delay, { name, date: formatDate(warning.until) }); }
    }
    return fmt(S.allowed, { name });
  }

  let current = null; // {code, answer, offline}

  function setPanel(colour) {
    panel.className = "till-answer till-" + colour;
    root.dataset.colour = colour;
  }

  function clearPanelParts() {
    nameEl.textContent = "";
    metaEl.textContent = "";
    reasonsEl.replaceChildren();
    messageEl.textContent = "";
    offlineEl.hidden = true;
    offlineEl.textContent = "";
    noteEl.hidden = true;
    noteEl.textContent = "";
    if (overrideOpen) { overrideOpen.hidden = true; }
    if (overrideForm) { overrideForm.hidden = true; overrideReason.value = ""; }
    delete root.dataset.offline;
  }

  function addLine(list, text) {
    const li = document.createElement("li");
    li.textContent = text;
    list.appendChild(li);
  }

  function showAnswer(answer, code, offline) {
    current = { code, answer, offline };
    clearPanelParts();
    setPanel(answer.colour);
    verdict.textContent = T[answer.colour] || "";
    nameEl.textContent = answer.display_name;
    const number = answer.member_number ? String(answer.member_number).padStart(6, "0") : answer.card_barcode;
    const who = answer.associate && !answer.member_number ? T.associate_card : fmt(answer.associate ? T.associate : T.member, { number });
    metaEl.textContent = who + " · " + (T.statuses[answer.status] || answer.status);
    (answer.reasons || []).forEach((reason) => addLine(reasonsEl, T.reasons[reason] || reason));
    (answer.warnings || []).forEach((warning) => {
      if (warning.code === "alert") {
        addLine(reasonsEl, fmt(T.alert, { n: warning.makeups_owed, date: formatDate(warning.deadline) }));
      } else if (warning.code === "delay") {
        addLine(reasonsEl, fmt(T.delay, { date: formatDate(warning.until) }));
      }
    });
    messageEl.textContent = answer.message || sentence(answer);
    if (offline) {
      offlineEl.textContent = fmt(T.offline, { time: formatTime(cards.checkedAt) });
      offlineEl.hidden = false;
      root.dataset.offline = "1";
    }
    if (OVERRIDE_ALLOWED && overrideOpen && answer.colour === "red" && !offline) { overrideOpen.hidden = false; }
    addRecent(answer.display_name, code, offline ? answer.colour + " till-recent-offline" : answer.colour);
    focusScan();
  }

  function showProblem(colour, text, code, offline) {
    current = null;
    clearPanelParts();
    setPanel(colour);
    verdict.textContent = text;
    if (code) { metaEl.textContent = code; }
    if (offline) {
      offlineEl.textContent = cards ? fmt(T.offline, { time: formatTime(cards.checkedAt) }) : "OFFLINE";
      offlineEl.hidden = false;
      root.dataset.offline = "1";
    }
    if (code) { addRecent(text, code, colour); }
    focusScan();
  }

  function showOffline(code, source) {
    const answer = offlineAnswer(code);
    rememberOffline(code, answer, source);
    if (answer) {
      showAnswer(answer, code, true);
    } else if (cards) {
      showProblem("orange", T.offline_unknown, code, true);
    } else {
      showProblem("orange", T.offline_no_list, code, true);
    }
  }

  function clearAll() {
    current = null;
    clearPanelParts();
    setPanel("idle");
    verdict.textContent = idleVerdict;
    clearSearch();
    focusScan();
  }

  function addRecent(name, code, colour) {
    const li = document.createElement("li");
    li.className = "till-recent-" + colour;
    const dot = document.createElement("span");
    dot.className = "till-dot";
    dot.setAttribute("aria-hidden", "true");
    const time = document.createElement("time");
    const now = new Date();
    time.dateTime = now.toISOString();
    time.textContent = now.toLocaleTimeString(LANG, { hour: "2-digit", minute: "2-digit", hour12: false });
    const codeEl = document.createElement("span");
    codeEl.className = "text-muted font-monospace small";
    codeEl.textContent = code;
    li.append(dot, " ", time, " ", name, " ", codeEl);
    recent.prepend(li);
    while (recent.children.length > RECENT_MAX) { recent.lastElementChild.remove(); }
  }

  // --- lookups ----------------------------------------------------------------------------------

  let lookupSeq = 0;

  async function lookup(raw, source) {
    const code = String(raw || "").trim();
    if (!code) { focusScan(); return; }
    const mine = ++lookupSeq;
    panel.classList.add("till-busy");
    let response;
    const via = source === "search" ? "?via=search" : "";
    try {
      response = await fetchWithTimeout(API + encodeURIComponent(code) + "/" + via, { headers: { Accept: "application/json" } }, LOOKUP_TIMEOUT_MS);
    } catch (error) { // network error or timeout: the server is unreachable
      if (mine === lookupSeq) { showOffline(code, source); }
      return;
    }
    if (mine !== lookupSeq) { return; }
    if (response.status >= 500) { showOffline(code, source); return; }
    flushPending();
    if (response.ok) {
      let answer;
      try { answer = await response.json(); } catch (error) { showOffline(code); return; }
      if (mine === lookupSeq) { showAnswer(answer, code, false); }
    } else if (response.status === 404) {
      showProblem("unknown", T.unknown, code, false);
    } else if (response.status === 401) {
      showProblem("unknown", T.signed_out, code, false);
    } else if (response.status === 403) {
      showProblem("unknown", T.forbidden, code, false);
    } else {
      showProblem("unknown", T.error, code, false);
    }
  }

  // --- name search ------------------------------------------------------------------------------

  let found = [];
  let active = -1;
  let searchSeq = 0;
  let searchTimer = null;

  function clearSearch() {
    clearTimeout(searchTimer);
    searchSeq++;
    search.value = "";
    searchNote.textContent = "";
    found = [];
    active = -1;
    results.replaceChildren();
    search.setAttribute("aria-expanded", "false");
    search.removeAttribute("aria-activedescendant");
  }

  function renderResults(items, note) {
    found = items;
    active = items.length ? 0 : -1;
    results.replaceChildren();
    items.forEach((item, index) => {
      const li = document.createElement("li");
      li.id = "search-result-" + index;
      li.className = "list-group-item list-group-item-action till-result till-result-" + item.colour;
      li.setAttribute("role", "option");
      const dot = document.createElement("span");
      dot.className = "till-dot";
      dot.setAttribute("aria-hidden", "true");
      const number = document.createElement("span");
      number.className = "text-muted font-monospace small ms-2";
      number.textContent = item.member_number ? String(item.member_number).padStart(6, "0") : item.card_barcode;
      li.append(dot, " ", item.display_name, number);
      li.addEventListener("mousedown", (event) => event.preventDefault());
      li.addEventListener("click", () => pick(index));
      results.appendChild(li);
    });
    searchNote.textContent = note || (items.length ? "" : T.no_result);
    search.setAttribute("aria-expanded", items.length ? "true" : "false");
    highlight();
  }

  function highlight() {
    Array.from(results.children).forEach((li, index) => {
      const on = index === active;
      li.classList.toggle("active", on);
      li.setAttribute("aria-selected", on ? "true" : "false");
      if (on) { li.scrollIntoView({ block: "nearest" }); }
    });
    if (active >= 0) {
      search.setAttribute("aria-activedescendant", "search-result-" + active);
    } else {
      search.removeAttribute("aria-activedescendant");
    }
  }

  function offlineSearch(text) {
    const words = foldName(text).split(" ").filter(Boolean);
    return cards.list.filter((card) => {
      const name = foldName(card.display_name);
      return words.every((word) => name.includes(word));
    }).slice(0, 20);
  }

  async function runSearch(text) {
    const mine = ++searchSeq;
    if (foldName(text).replace(/ /g, "").length < 2) { renderResults([], " "); return; }
    searchNote.textContent = T.searching;
    let response;
    try {
      response = await fetchWithTimeout(API + "?search=" + encodeURIComponent(text), { headers: { Accept: "application/json" } }, LOOKUP_TIMEOUT_MS);
    } catch (error) {
      response = null;
    }
    if (mine !== searchSeq) { return; }
    if (!response || response.status >= 500) {
      if (cards) {
        renderResults(offlineSearch(text), fmt(T.search_offline, { time: formatTime(cards.checkedAt) }));
      } else {
        renderResults([], T.offline_no_list);
      }
      return;
    }
    if (!response.ok) {
      renderResults([], response.status === 401 ? T.signed_out : (response.status === 403 ? T.forbidden : T.no_result));
      return;
    }
    renderResults(await response.json());
  }

  function pick(index) {
    const item = found[index];
    if (!item) { return; }
    clearSearch();
    lookup(item.associate || !item.member_number ? item.card_barcode : String(item.member_number), "search");
  }

  // --- override (when the coop allows it) ---------------------------------------------------------

  async function sendOverride() {
    if (!current) { return; }
    const reason = overrideReason.value.trim();
    if (!reason) {
      noteEl.textContent = T.reason_required;
      noteEl.hidden = false;
      overrideReason.focus();
      return;
    }
    const target = current;
    let response;
    try {
      response = await fetchWithTimeout(API + encodeURIComponent(target.code) + "/override/", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken },
        body: JSON.stringify({ reason }),
      }, LOOKUP_TIMEOUT_MS);
    } catch (error) {
      response = null;
    }
    overrideForm.hidden = true;
    overrideReason.value = "";
    if (response && response.status === 201) {
      overrideOpen.hidden = true;
      panel.classList.add("till-overridden");
      root.dataset.overridden = "1";
      noteEl.textContent = T.override_done;
      addRecent(target.answer.display_name, target.code, "override");
    } else if (!response) {
      noteEl.textContent = T.override_offline;
    } else {
      let detail = String(response.status);
      try { detail = (await response.json()).detail || detail; } catch (error) { /* keep the status */ }
      noteEl.textContent = fmt(T.override_failed, { detail });
    }
    noteEl.hidden = false;
    focusScan();
  }

  // --- keyboard and events ----------------------------------------------------------------------

  scanForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = scan.value.trim();
    if (!value) { return; }
    if (/^\d+$/.test(value)) {
      lookup(value);
    } else { // letters: a name
      scan.value = "";
      search.value = value;
      search.focus();
      runSearch(value);
    }
  });

  search.addEventListener("input", () => {
    clearTimeout(searchTimer);
    const text = search.value;
    searchTimer = setTimeout(() => runSearch(text), 250);
  });

  search.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (!found.length) { return; }
      const step = event.key === "ArrowDown" ? 1 : -1;
      active = (active + step + found.length) % found.length;
      highlight();
    } else if (event.key === "Enter") {
      event.preventDefault();
      if (found.length) {
        pick(active >= 0 ? active : 0);
      } else {
        clearTimeout(searchTimer);
        runSearch(search.value);
      }
    }
  });

  if (overrideOpen) {
    overrideOpen.addEventListener("click", () => {
      overrideOpen.hidden = true;
      overrideForm.hidden = false;
      overrideReason.focus();
    });
    overrideReason.addEventListener("input", () => { noteEl.hidden = true; });
    overrideForm.addEventListener("submit", (event) => {
      event.preventDefault();
      sendOverride();
    });
    overrideCancel.addEventListener("click", () => {
      overrideForm.hidden = true;
      overrideOpen.hidden = !current;
      focusScan();
    });
  }

  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      clearAll();
      return;
    }
    if (event.key === "F2") {
      event.preventDefault();
      search.focus();
      search.select();
      return;
    }
    // A scanner typing while nothing is focused: send its digits to the scan field.
    const target = event.target;
    const typing = target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
    if (!typing && /^\d$/.test(event.key) && !event.ctrlKey && !event.metaKey && !event.altKey) {
      scan.focus();
    }
  });

  // --- start --------------------------------------------------------------------------------------

  loadStoredCards();
  showListStatus(!!cards);
  refreshCards();
  setInterval(refreshCards, REFRESH_MS);
  scan.focus();

  if ("serviceWorker" in navigator && root.dataset.swUrl && window.isSecureContext) {
    navigator.serviceWorker.register(root.dataset.swUrl, { scope: root.dataset.swScope }).catch(() => {});
  }
  root.dataset.ready = "1";
}());
