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
// Signing out wipes what the site keeps on this device: the till's offline card list
// (localStorage) and the till's service worker and caches. The server also answers the sign-out
// with Clear-Site-Data; this covers browsers that ignore it. The form is sent once the wipe is
// done (or after a second at most).
function wipeDevice() {
  var jobs = [];
  try {
    Object.keys(window.localStorage).forEach(function (key) {
      if (key.indexOf("coopmarket.") === 0) { window.localStorage.removeItem(key); }
    });
  } catch (error) { /* storage disabled: nothing kept */ }
  if (window.caches) {
    jobs.push(window.caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) { return name.indexOf("till-") === 0; })
        .map(function (name) { return window.caches.delete(name); }));
    }));
  }
  if (navigator.serviceWorker && navigator.serviceWorker.getRegistrations) {
    jobs.push(navigator.serviceWorker.getRegistrations().then(function (registrations) {
      return Promise.all(registrations.map(function (registration) { return registration.unregister(); }));
    }));
  }
  var timeout = new Promise(function (resolve) { setTimeout(resolve, 1000); });
  return Promise.race([Promise.all(jobs).catch(function () {}), timeout]);
}
document.querySelectorAll("form[data-signout]").forEach(function (form) {
  form.addEventListener("submit", function (event) {
    if (form.dataset.wiped === "1") { return; }
    event.preventDefault();
    wipeDevice().then(function () {
      form.dataset.wiped = "1";
      form.submit();
    });
  });
});
