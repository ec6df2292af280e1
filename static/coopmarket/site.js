// Small behaviours shared by every page (no inline scripts: the CSP forbids them).
document.querySelectorAll("select[data-autosubmit]").forEach(function (el) {
  el.addEventListener("change", function () { el.form.submit(); });
});
document.querySelectorAll("form[data-confirm]").forEach(function (form) {
  form.addEventListener("submit", function (event) {
    if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); }
  });
});
// A select whose options carry data-amount fills the amount field it names (record a payment).
document.querySelectorAll("select[data-fill-amount]").forEach(function (select) {
  select.addEventListener("change", function () {
    var option = select.options[select.selectedIndex];
    var target = document.getElementById(select.dataset.fillAmount);
    if (option && target && option.dataset.amount) { target.value = option.dataset.amount; }
  });
});
