// Coordination team's shift pages (no inline scripts: the CSP forbids them).
// "Everyone attended": selects "attended" on every row with nothing chosen yet.
document.querySelectorAll("button[data-mark-all]").forEach(function (button) {
  button.addEventListener("click", function () {
    var state = button.dataset.markAll;
    document.querySelectorAll("[data-attendance-row]").forEach(function (row) {
      if (row.querySelector("input[type=radio]:checked")) { return; }
      var radio = row.querySelector("input[type=radio][value='" + state + "']");
      if (radio) { radio.checked = true; }
    });
  });
});
