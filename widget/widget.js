/*! Slotwise embed loader: turns each <script data-site> tag into a booking iframe. */
(function (W, D) {
  "use strict";

  // Loaded twice (two snippets, or a tag added later): the first copy owns the
  // page; later copies only ask it to mount tags it has not seen yet.
  if (W.Slotwise && W.Slotwise.scan) {
    W.Slotwise.scan();
    return;
  }

  var TITLES = { de: "Termin buchen", en: "Book an appointment" };
  var EVENTS = { ready: 1, "slot-selected": 1, booked: 1, error: 1 };
  var MOUNTED = "data-slotwise-mounted";
  var widgets = {}; // widget id -> {frame, box, origin}
  var count = 0;
  var current = D.currentScript;
  var loaderBase = current ? baseOf(current.src) : "";

  // "https://book.example/x/widget.js?v=2" -> "https://book.example/x"
  function baseOf(src) {
    var u = new URL(src, location.href);
    return u.origin + u.pathname.replace(/\/widget\.js$/, "");
  }

  function timeZone() {
    try {
      return Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    } catch (e) {
      return "";
    }
  }

  // o: {site, service?, resource?, locale?, accent?, base?, box: the container element}
  function create(o) {
    var base = o.base || loaderBase;
    var id = "w" + ++count + "-" + Math.random().toString(36).slice(2, 8);
    var locale = o.locale || navigator.language || "en";
    var q = { embed: 1, wid: id, host: location.origin, tz: timeZone(), locale: locale };
    var k, query = [];
    if (o.service) q.service = o.service;
    if (o.resource) q.resource = o.resource;
    if (o.accent) q.accent = o.accent;
    for (k in q) if (q[k] !== "") query.push(k + "=" + encodeURIComponent(q[k]));

    var f = D.createElement("iframe");
    f.title = TITLES[locale.slice(0, 2).toLowerCase()] || TITLES.en;
    f.loading = "eager";
    f.src = base + "/book/" + encodeURIComponent(o.site) + "?" + query.join("&");
    // Property writes, not a style attribute: allowed under a strict host CSP.
    var s = f.style;
    s.display = "block";
    s.width = "100%";
    s.border = "0";
    s.height = "420px";
    o.box.appendChild(f);
    widgets[id] = { frame: f, box: o.box, origin: new URL(base).origin };
    return { id: id, frame: f, container: o.box };
  }

  function onMessage(e) {
    var d = e.data;
    var w = d && d.source === "slotwise" && widgets[d.widget];
    // Trust only our own frame, from the origin we loaded it from.
    if (!w || e.origin !== w.origin || e.source !== w.frame.contentWindow) return;
    var detail = d.detail || {};
    if (d.type === "resize") {
      var h = Math.ceil(+detail.height);
      if (h > 0 && h < 1e5 && w.frame.style.height !== h + "px") w.frame.style.height = h + "px";
    } else if (d.type === "scroll") {
      // A new step's heading (top px inside the frame): into view when it is off screen.
      var y = w.frame.getBoundingClientRect().top + (+detail.top || 0);
      if (y < 0 || y > innerHeight - 48) scrollBy(0, y - 8);
    } else if (EVENTS[d.type]) {
      w.box.dispatchEvent(new CustomEvent("slotwise:" + d.type, { bubbles: true, detail: detail }));
    }
  }

  function mountScript(el) {
    if (el.hasAttribute(MOUNTED)) return;
    var sel = el.getAttribute("data-target");
    var box = sel && D.querySelector(sel);
    var parent = el.parentNode;
    var inBody = parent && parent !== D.head;
    if (!box && (sel || !inBody) && D.readyState === "loading") {
      // An async tag can run before the parser reaches its target (or <body>).
      D.addEventListener("DOMContentLoaded", function () { mountScript(el); });
      return;
    }
    el.setAttribute(MOUNTED, "");
    if (!box) {
      box = D.createElement("div");
      if (inBody) parent.insertBefore(box, el);
      else D.body.appendChild(box);
    }
    create({
      site: el.getAttribute("data-site"),
      service: el.getAttribute("data-service"),
      resource: el.getAttribute("data-resource"),
      locale: el.getAttribute("data-locale"),
      accent: el.getAttribute("data-accent"),
      base: baseOf(el.src),
      box: box
    });
  }

  function scan() {
    var tags = D.querySelectorAll('script[data-site][src*="/widget.js"]');
    for (var i = 0; i < tags.length; i++) mountScript(tags[i]);
  }

  W.addEventListener("message", onMessage);
  W.Slotwise = {
    scan: scan,
    // Slotwise.mount(element or selector, {site, service, resource, locale, accent})
    mount: function (target, o) {
      var box = typeof target === "string" ? D.querySelector(target) : target;
      var c = {}, k;
      for (k in o) c[k] = o[k];
      c.box = box;
      return create(c);
    }
  };
  if (current && current.hasAttribute("data-site")) mountScript(current);
  scan();
})(window, document);
