/* The dashboard's live figures (services/web/templates/staff/dashboard.html): a static file,
   as the Content-Security-Policy runs no inline script. */
/* Progressive enhancement: without JavaScript the figures are those of the page load. */
(function () {
  var status = document.getElementById("live-status");
  if (!("EventSource" in window) || !status) return;
  /* what the server rendered: the positions of its figures, and where to read more */
  var shown = JSON.parse(status.getAttribute("data-positions"));
  var zone = "Europe/Copenhagen";
  var dayFormat = new Intl.DateTimeFormat("da-DK", {timeZone: zone, weekday: "long",
    day: "numeric", month: "long", year: "numeric"});
  var clockFormat = new Intl.DateTimeFormat("da-DK", {timeZone: zone, hour: "2-digit",
    minute: "2-digit", hourCycle: "h23"});
  /* as the server writes it: tirsdag 24. november 2026 kl. 09.30 */
  function when(text) {
    var moment = new Date(text), part = {};
    dayFormat.formatToParts(moment).forEach(function (p) { part[p.type] = p.value; });
    return part.weekday + " " + part.day + ". " + part.month + " " + part.year + " kl. " +
      clockFormat.format(moment).replace(":", ".");
  }
  function show(name, value) {
    if (/\.starts_at$/.test(name)) return value ? when(value) : "Ingen ledige tider";
    if (/\.within_target$/.test(name)) {
      return value === true ? "Inden for målet" : value === false ? "Over målet" : "–";
    }
    if (value === null || value === undefined) return "–";
    return typeof value === "number" ? value.toLocaleString("da-DK") : String(value);
  }
  function flatten(data, prefix, out) {
    Object.keys(data).forEach(function (key) {
      var value = data[key], name = prefix ? prefix + "." + key : key;
      if (value && typeof value === "object" && !Array.isArray(value)) flatten(value, name, out);
      else out[name] = value;
    });
    return out;
  }
  /* Figures older than those shown (a snapshot overtaken by an event) are left out. */
  function apply(figures) {
    if (!figures || figures.reporting_position < shown.reporting_position ||
        figures.sms_position < shown.sms_position) return;
    shown = {reporting_position: figures.reporting_position, sms_position: figures.sms_position};
    var none = document.getElementById("no-figures");
    if (none) none.hidden = true;
    document.querySelectorAll("[data-figure^='first_free.']").forEach(function (slot) {
      var service = slot.getAttribute("data-figure").split(".")[1];
      if (!(figures.first_free || {})[service]) {
        slot.textContent = show(slot.getAttribute("data-figure"), null);
      }
    });
    var flat = flatten(figures, "", {});
    Object.keys(flat).forEach(function (name) {
      var slot = document.querySelector('[data-figure="' + CSS.escape(name) + '"]');
      if (slot) slot.textContent = show(name, flat[name]);
    });
    status.textContent = "Live · opdateret kl. " + clockFormat.format(new Date()).replace(":", ".");
  }
  function onEvent(event) {
    try { apply(JSON.parse(event.data).figures); } catch (e) { /* not a figures frame */ }
  }
  /* After every (re)connect: the figures now, so nothing missed while away stays missing. */
  function refresh() {
    fetch(status.getAttribute("data-figures"), {credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(apply)
      .catch(function () {});
  }
  var source = new EventSource(status.getAttribute("data-stream"));
  source.onopen = function () { status.textContent = "Live"; refresh(); };
  source.onmessage = onEvent;
  /* each event arrives named by its type (booking.booked, sms.delivered, ...) */
  JSON.parse(status.getAttribute("data-event-types")).forEach(function (name) { source.addEventListener(name, onEvent); });
  source.onerror = function () {
    if (source.readyState === EventSource.CLOSED) {
      status.textContent = "Live-tal er ikke tilgængelige; genindlæs siden for nye tal";
    } else {
      status.textContent = "Forbinder igen …";
    }
  };
})();
