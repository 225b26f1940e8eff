// The one fragment poller (issue 12). Pages show a server-rendered fragment for running work
// (a preview, checks, an upscale, an export, a pack); while the fragment says the work is busy,
// fetch it again and swap it in; once it says it has settled, stop.
//
//   window.draftroomPoll.watch({
//     target: element,             // what is swapped
//     url: "/fragment/url",        // where the fresh fragment comes from
//     swap: "inner",               // "inner": the target's content; "outer": the target itself,
//                                  //   replaced by the fragment's root element
//     busy: '[data-active="1"]',   // poll while this matches in the target (or a function)
//     settled: function (target) {},  // once, when this watcher's work goes from busy to settled
//     live: true,                  // keep watching at the calm interval once nothing is busy
//     changed: function (target) {},  // after a fresh fragment was swapped in
//   });
//
// One policy for every page: a request every 1.5 s while busy. After a failed request (no
// answer, not a 2xx, or redirected) wait twice as long as last time, up to 30 s, and go back to
// 1.5 s after the next success: a struggling server is not hammered by every open tab. Nothing is
// fetched while the tab is hidden; when it shows again (or comes back from the back/forward
// cache) the fragment is fetched at once, so what the person sees is never older than the
// moment they look.
//
// Live mode (issue 13: open pages update when someone else decides). A "live" watcher keeps
// its poller going after the work settles, one request every LIVE_INTERVAL (5 s), with the same
// back-off, hidden-tab pause and refresh on show. Those calm requests are cheap: the fragment
// carries the version of the state it shows in a data-version attribute (on its root or inside
// it), sent as If-None-Match; the server compares it with the current version and answers 304
// Not Modified, or the fresh fragment when someone changed it. Requests made while busy are not
// conditional: a version covers the decisions, not the running work. The page's own swaps (its
// own decision) update data-version too, so it never hears its own change as someone else's.
// After a swap the element that had the keyboard focus inside the target (found again by id or
// link) gets it back.
//
// Sharing: watchers of one target share one poller. It runs while any of them is busy, so the
// batch grid, which waits for both previews and checks, asks once per tick, not twice, and two
// loops never swap the same element in turn. Each poller has at most one request in flight;
// an answer that comes back after the poller was stopped is dropped.
(function () {
  "use strict";
  var INTERVAL = 1500;
  var MAX_INTERVAL = 30000;
  var LIVE_INTERVAL = 5000;
  var pollers = [];

  function hidden() { return document.visibilityState === "hidden"; }

  function isBusy(watcher, target) {
    if (typeof watcher.busy === "function") return Boolean(watcher.busy(target));
    return target.matches(watcher.busy) || target.querySelector(watcher.busy) !== null;
  }

  function Poller(target, url, swap) {
    this.target = target;
    this.url = url;
    this.swap = swap;
    this.watchers = [];
    this.timer = null;
    this.inFlight = false;
    this.failures = 0;
    this.stopped = false;
    this.live = false;
  }

  Poller.prototype.delay = function () {
    var base = this.busy() ? INTERVAL : LIVE_INTERVAL;
    return Math.min(MAX_INTERVAL, base * Math.pow(2, this.failures));
  };

  // The version of the state the target shows now, as its fragment said (empty: none).
  Poller.prototype.version = function () {
    var holder = this.target.matches("[data-version]")
      ? this.target
      : this.target.querySelector("[data-version]");
    return holder ? holder.getAttribute("data-version") : "";
  };

  Poller.prototype.busy = function () {
    var target = this.target;
    return this.watchers.some(function (watcher) { return isBusy(watcher, target); });
  };

  // Which watchers are busy now; fires `settled` for those that just stopped being busy.
  Poller.prototype.check = function () {
    var any = false;
    var target = this.target;
    this.watchers.forEach(function (watcher) {
      var busy = isBusy(watcher, target);
      if (watcher.wasBusy && !busy && watcher.settled) watcher.settled(target);
      watcher.wasBusy = busy;
      any = any || busy;
    });
    return any;
  };

  Poller.prototype.schedule = function (ms) {
    var self = this;
    window.clearTimeout(this.timer);
    this.timer = null;
    if (this.stopped || hidden()) return; // "visibilitychange" starts it again
    this.timer = window.setTimeout(function () { self.tick(); }, ms);
  };

  Poller.prototype.stop = function () {
    window.clearTimeout(this.timer);
    this.timer = null;
    this.stopped = true;
  };

  // Which element inside the target has the keyboard focus, said so that it can be found again
  // in the fresh fragment: its id, or the link it points to.
  Poller.prototype.focusKey = function () {
    var el = document.activeElement;
    if (!el || el === document.body || !this.target.contains(el)) return null;
    if (el.id) return "#" + CSS.escape(el.id);
    var href = el.getAttribute("href");
    if (href) return el.tagName.toLowerCase() + '[href="' + CSS.escape(href) + '"]';
    return null;
  };

  Poller.prototype.place = function (html) {
    var focusKey = this.focusKey();
    this.placeHtml(html);
    if (focusKey) {
      var again = this.target.querySelector(focusKey);
      if (again) again.focus({ preventScroll: true });
    }
  };

  Poller.prototype.placeHtml = function (html) {
    if (this.swap === "outer") {
      var holder = document.createElement("div");
      holder.innerHTML = html.trim();
      var fresh = holder.firstElementChild;
      if (!fresh) return;
      this.target.replaceWith(fresh);
      this.target = fresh;
    } else {
      this.target.innerHTML = html;
    }
  };

  Poller.prototype.tick = function () {
    var self = this;
    this.timer = null;
    if (this.stopped || this.inFlight || hidden()) return;
    // Nothing left to wait for (or nothing to show it in): no request at all.
    if (!this.target.isConnected) { this.stop(); return; }
    var busy = this.busy();
    if (!busy && !this.live) { this.stop(); return; }
    var headers = {};
    var version = busy ? "" : this.version();
    if (version) headers["If-None-Match"] = '"' + version + '"';
    this.inFlight = true;
    fetch(this.url, { credentials: "same-origin", cache: "no-store", headers: headers })
      // A redirected answer is a failure too: an expired session answers with the login page,
      // which must not be swapped into a panel.
      .then(function (resp) {
        if (resp.status === 304 && version) return null;
        if (!resp.ok || resp.redirected) throw new Error("HTTP " + resp.status);
        return resp.text();
      })
      // Two callbacks, not .catch(): a fault in a page's `settled` is not a failed request.
      .then(function (html) { self.answered(html, Boolean(version)); }, function () { self.failed(); });
  };

  // ``html`` null: 304, the target shows the current version. ``conditional``: the server
  // compared versions, so a fragment it sends differs from what the target shows now, even
  // when it is the same text as an earlier answer (the page may have swapped in its own since).
  Poller.prototype.answered = function (html, conditional) {
    this.inFlight = false;
    if (this.stopped || !this.target.isConnected) return;
    this.failures = 0;
    // An unchanged fragment is not swapped again: images would reload and focus would go.
    if (html !== null && (conditional || html !== this.lastHtml)) {
      this.lastHtml = html;
      this.place(html);
      var target = this.target;
      this.watchers.forEach(function (watcher) { if (watcher.changed) watcher.changed(target); });
    }
    var busy = this.check();
    if (busy || this.live) this.schedule(busy ? INTERVAL : LIVE_INTERVAL); else this.stop();
  };

  Poller.prototype.failed = function () {
    this.inFlight = false;
    this.failures += 1;
    this.schedule(this.delay());
  };

  function watch(options) {
    var target = options.target;
    if (!target || !options.url) return null;
    var watcher = {
      busy: options.busy || '[data-active="1"]',
      settled: options.settled,
      changed: options.changed,
    };
    var poller = null;
    for (var i = 0; i < pollers.length; i++) {
      if (pollers[i].target === target && !pollers[i].stopped) poller = pollers[i];
    }
    if (poller === null) {
      poller = new Poller(target, options.url, options.swap === "outer" ? "outer" : "inner");
      pollers.push(poller);
    } else if (poller.url !== options.url) {
      // One element, two sources: the later answer would undo the earlier one.
      throw new Error("draftroomPoll: " + options.url + " and " + poller.url + " swap one element");
    }
    watcher.wasBusy = isBusy(watcher, target);
    poller.watchers.push(watcher);
    if (options.live) poller.live = true;
    if (!poller.inFlight) {
      // A busy watcher brings a calm live poller's next request forward to the busy interval.
      if (watcher.wasBusy) poller.schedule(INTERVAL);
      else if (poller.live && poller.timer === null) poller.schedule(LIVE_INTERVAL);
    }
    return poller;
  }

  // Fetch every running poller's fragment now (shown again, or back from the back/forward cache).
  function resume() {
    pollers = pollers.filter(function (p) { return !p.stopped; });
    pollers.forEach(function (p) {
      window.clearTimeout(p.timer);
      p.timer = null;
      p.tick();
    });
  }

  document.addEventListener("visibilitychange", function () {
    if (hidden()) {
      pollers.forEach(function (p) { window.clearTimeout(p.timer); p.timer = null; });
    } else {
      resume();
    }
  });
  window.addEventListener("pageshow", function (event) { if (event.persisted) resume(); });

  window.draftroomPoll = {
    watch: watch,
    INTERVAL: INTERVAL,
    LIVE_INTERVAL: LIVE_INTERVAL,
    MAX_INTERVAL: MAX_INTERVAL,
  };
})();
