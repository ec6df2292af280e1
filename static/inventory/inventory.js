// Supply pages (no inline scripts: the CSP forbids them).
document.querySelectorAll("button[data-confirm-button]").forEach(function (button) {
  button.addEventListener("click", function (event) {
    if (!window.confirm(button.dataset.confirmButton)) { event.preventDefault(); }
  });
});
