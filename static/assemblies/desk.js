// The assembly's sign-in desk: keyboard first, like the till. A scanner types the card's digits
// and Enter into the focused field; F2 searches the voters by name (arrows + Enter); Esc clears.
// Every text comes translated from the page (#desk-texts).
(function () {
  "use strict";
  var desk = document.getElementById("desk");
  if (!desk) { return; }
  var texts = JSON.parse(document.getElementById("desk-texts").textContent);
  var scan = document.getElementById("scan");
  var search = document.getElementById("search");
  var results = document.getElementById("search-results");
  var note = document.getElementById("search-note");
  var answer = document.getElementById("answer");
  var recent = document.getElementById("recent");
  var csrf = desk.querySelector("input[name=csrfmiddlewaretoken]").value;
  var found = [];
  var active = -1;
  var searchTimer = null;

  function fmt(text, values) {
    return text.replace(/%\((\w+)\)s/g, function (_m, key) { return values[key]; });
  }

  function clock(iso) {
    return new Date(iso).toLocaleTimeString(desk.dataset.lang, { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: desk.dataset.tz });
  }

  function setLine(id, text) {
    var el = document.getElementById(id);
    el.textContent = text || "";
    el.hidden = !text;
  }

  function show(kind, verdict, name, proxies, noteText) {
    answer.className = "desk-answer desk-" + kind;
    document.getElementById("answer-verdict").textContent = verdict;
    document.getElementById("answer-name").textContent = name || "";
    setLine("answer-proxies", proxies);
    setLine("answer-note", noteText);
  }

  function remember(kind, label) {
    var item = document.createElement("li");
    item.className = "desk-recent-" + kind;
    item.textContent = new Date().toLocaleTimeString(desk.dataset.lang, { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: desk.dataset.tz }) + " · " + label;
    recent.insertBefore(item, recent.firstChild);
    while (recent.children.length > 12) { recent.removeChild(recent.lastChild); }
  }

  function signIn(body, label) {
    fetch(desk.dataset.signIn, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) { return { status: response.status, data: data }; });
    }).then(function (reply) {
      var data = reply.data;
      if (reply.status === 200) {
        var name = data.name + " · " + data.display_number;
        var proxies = data.proxies.length ? fmt(texts.carries, { names: data.proxies.join(", ") }) : "";
        var gave = data.proxy_taken_back ? fmt(texts.gave, { name: data.proxy_taken_back }) : "";
        if (data.signed_in_now) {
          show("ok", texts.signed_in, name, proxies, gave);
          remember("ok", data.name);
        } else {
          show("again", fmt(texts.already, { time: clock(data.present_at) }), name, proxies, "");
        }
        window.coopShowQuorum(data.quorum);  // static/assemblies/live.js
      } else if (reply.status === 401 || reply.status === 403) {
        show("no", texts.signed_out, "", "", data.detail || "");
      } else if (reply.status === 404 || reply.status === 409) {
        show("no", texts.not_voter, label, "", data.detail || "");
        remember("no", label);
      } else {
        show("no", texts.error, label, "", data.detail ? String(data.detail) : "");
      }
    }).catch(function () {
      show("no", texts.offline, label, "", "");
    });
  }

  function clearSearch() {
    search.value = "";
    results.innerHTML = "";
    note.textContent = "";
    found = [];
    active = -1;
    search.setAttribute("aria-expanded", "false");
  }

  function renderResults() {
    results.innerHTML = "";
    found.forEach(function (person, index) {
      var item = document.createElement("li");
      item.className = "list-group-item list-group-item-action" + (index === active ? " active" : "");
      item.setAttribute("role", "option");
      item.setAttribute("aria-selected", index === active ? "true" : "false");
      item.textContent = person.name + " · " + person.display_number + (person.present ? " ✓" : "");
      item.addEventListener("mousedown", function (event) { event.preventDefault(); pick(index); });
      results.appendChild(item);
    });
    search.setAttribute("aria-expanded", found.length ? "true" : "false");
  }

  function pick(index) {
    var person = found[index];
    if (!person) { return; }
    clearSearch();
    scan.focus();
    signIn({ member: person.member }, person.name);
  }

  function runSearch() {
    var text = search.value.trim();
    if (text.length < 2) { found = []; active = -1; renderResults(); note.textContent = ""; return; }
    note.textContent = texts.searching;
    fetch(desk.dataset.signIn + "?search=" + encodeURIComponent(text), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : []; })
      .then(function (people) {
        if (search.value.trim() !== text) { return; }
        found = people;
        active = people.length ? 0 : -1;
        note.textContent = people.length ? "" : texts.no_result;
        renderResults();
      }).catch(function () { note.textContent = texts.offline; });
  }

  document.getElementById("scan-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var code = scan.value.trim();
    scan.value = "";
    if (!code) { return; }
    if (/[^\d\s]/.test(code)) {  // letters: a name, for the search
      search.value = code;
      search.focus();
      runSearch();
      return;
    }
    signIn({ code: code.replace(/\s/g, "") }, code);
  });

  search.addEventListener("input", function () {
    window.clearTimeout(searchTimer);
    searchTimer = window.setTimeout(runSearch, 150);
  });

  search.addEventListener("keydown", function (event) {
    if (event.key === "ArrowDown" && found.length) { event.preventDefault(); active = (active + 1) % found.length; renderResults(); }
    else if (event.key === "ArrowUp" && found.length) { event.preventDefault(); active = (active - 1 + found.length) % found.length; renderResults(); }
    else if (event.key === "Enter") { event.preventDefault(); pick(active); }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "F2") { event.preventDefault(); search.focus(); }
    else if (event.key === "Escape") {
      event.preventDefault();
      clearSearch();
      show("idle", document.getElementById("answer-verdict").dataset.idle, "", "", "");
      scan.focus();
    }
  });

  document.getElementById("answer-verdict").dataset.idle = document.getElementById("answer-verdict").textContent;
  scan.focus();
  desk.dataset.ready = "1";
})();
