// The cooperator's pages: copy the calendar address (no inline scripts: the CSP forbids them).
document.querySelectorAll("button[data-copy]").forEach(function (button) {
  button.hidden = false;
  button.addEventListener("click", function () {
    var field = document.getElementById(button.dataset.copy);
    if (!field) { return; }
    var done = function () { button.textContent = button.dataset.copied || button.textContent; };
    field.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done);
    } else {
      try { if (document.execCommand("copy")) { done(); } } catch (e) { /* the address stays selected */ }
    }
  });
});
