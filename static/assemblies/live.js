// Live quorum and votes: polls the assembly's API object (no inline script: the CSP forbids it).
// <div id="assembly" data-api="/api/v1/assemblies/ID/" [data-signature="..."]>: the figures marked
// data-live="present|represented|voters|verdict" and data-live-ballots="RESOLUTION_ID" follow the
// server; with data-signature (the screen, the phone page) a change of the resolutions' states
// reloads the page, so the room sees a result the moment the vote is closed.
(function () {
  "use strict";

  // The quorum box: {present, represented, voters, reached}; the desk calls it after a sign-in.
  function showQuorum(quorum) {
    ["present", "represented", "voters"].forEach(function (name) {
      document.querySelectorAll('[data-live="' + name + '"]').forEach(function (el) { el.textContent = quorum[name]; });
    });
    document.querySelectorAll('[data-live="verdict"]').forEach(function (el) {
      el.textContent = quorum.reached ? el.dataset.yes : el.dataset.no;
      el.classList.toggle("text-bg-success", quorum.reached);
      el.classList.toggle("text-bg-warning", !quorum.reached);
    });
    var box = document.getElementById("quorum");
    if (box) { box.dataset.reached = quorum.reached ? "1" : "0"; }
  }
  window.coopShowQuorum = showQuorum;

  var root = document.getElementById("assembly");
  if (!root || !root.dataset.api) { return; }
  var every = parseInt(root.dataset.every || "4000", 10);

  function signature(data) {
    return data.resolutions.map(function (r) { return r.id + ":" + r.state; }).join(",") + "|" + (data.closed_at ? "closed" : "");
  }

  function show(data) {
    showQuorum({ present: data.present, represented: data.represented, voters: data.voters, reached: data.quorum_reached });
    data.resolutions.forEach(function (r) {
      document.querySelectorAll('[data-live-ballots="' + r.id + '"]').forEach(function (el) { el.textContent = r.ballots_cast; });
    });
    if (root.dataset.signature !== undefined && signature(data) !== root.dataset.signature) {
      window.location.reload();
    }
  }

  function poll() {
    fetch(root.dataset.api, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) { if (data) { show(data); } })
      .catch(function () { /* offline for a moment: the next poll tries again */ })
      .finally(function () { window.setTimeout(poll, every); });
  }
  window.setTimeout(poll, every);
})();
