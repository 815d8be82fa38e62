// The report's own script: zoom for each timeline (its buttons, or Ctrl
// and the mouse wheel, about the pointer), with the row labels kept in
// view while it scrolls; then the runs of programs drawn below their
// steps (view.js, before this).
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";

  // duration writes ns as Go's time.Duration does: 0, 250µs, 1.5ms, 2s.
  function duration(ns) {
    if (ns === 0) return "0";
    var units = [[60e9, "m"], [1e9, "s"], [1e6, "ms"], [1e3, "µs"], [1, "ns"]];
    if (ns >= 60e9) {
      var m = Math.floor(ns / 60e9), rest = ns - m * 60e9;
      return m + "m" + (rest ? duration(rest) : "0s");
    }
    for (var i = 1; i < units.length; i++) {
      if (ns >= units[i][0]) return +(ns / units[i][0]).toFixed(3) + units[i][1];
    }
    return ns + "ns";
  }

  // tickStep is a round step (1, 2 or 5 times a power of ten) that cuts
  // total into at most n parts.
  function tickStep(total, n) {
    for (var step = 1; ; step *= 10) {
      for (var m of [1, 2, 5]) if (total / (step * m) <= n) return step * m;
    }
  }

  function setup(chart, controls) {
    var svg = chart.querySelector("svg");
    if (!svg) return;
    var L = +chart.dataset.label, W = +chart.dataset.width, total = +chart.dataset.total;
    var H = +svg.getAttribute("height");
    var zoom = 1;
    var geo = [];
    Array.prototype.forEach.call(svg.querySelectorAll("rect, line:not(.axis), text.bar"), function (e) {
      if (e.classList.contains("lane")) return;
      var x = e.tagName === "line" ? +e.getAttribute("x1") : +e.getAttribute("x");
      geo.push({ e: e, x: x, w: e.tagName === "rect" ? +e.getAttribute("width") : 0 });
    });
    var lanes = svg.querySelectorAll("rect.lane");
    var gauges = svg.querySelectorAll("path.gauge");
    // The labels' column, moved on top and kept at the left while the
    // chart scrolls.
    var sticky = document.createElementNS(NS, "g");
    sticky.setAttribute("class", "labels");
    Array.prototype.forEach.call(lanes, function (r) {
      var c = r.cloneNode(false);
      c.setAttribute("width", L - 4);
      c.setAttribute("opacity", "1");
      sticky.appendChild(c);
    });
    Array.prototype.forEach.call(svg.querySelectorAll("text"), function (t) {
      if (t.classList.contains("bar") || t.classList.contains("tick")) return;
      sticky.appendChild(t);
    });
    svg.appendChild(sticky);
    chart.addEventListener("scroll", function () {
      sticky.setAttribute("transform", "translate(" + chart.scrollLeft + ",0)");
    });

    function axis() {
      Array.prototype.forEach.call(svg.querySelectorAll("line.axis, text.tick"), function (e) { e.remove(); });
      var step = tickStep(total, Math.max(2, Math.floor((W * zoom) / 90)));
      for (var t = 0; t <= total; t += step) {
        var x = L + (t / total) * W * zoom;
        var line = document.createElementNS(NS, "line");
        line.setAttribute("class", "axis");
        line.setAttribute("x1", x); line.setAttribute("x2", x);
        line.setAttribute("y1", 14); line.setAttribute("y2", H);
        var text = document.createElementNS(NS, "text");
        text.setAttribute("class", "tick");
        text.setAttribute("x", x); text.setAttribute("y", 11);
        text.setAttribute("text-anchor", "middle");
        text.textContent = duration(t);
        svg.insertBefore(line, svg.firstChild);
        svg.insertBefore(text, sticky);
      }
    }

    function apply(z, anchor) {
      z = Math.max(1, Math.min(5000, z));
      var at = anchor === undefined ? chart.clientWidth / 2 : anchor;
      var f = (chart.scrollLeft + at - L) / (W * zoom);
      zoom = z;
      var width = L + W * zoom + 10;
      svg.setAttribute("width", width);
      Array.prototype.forEach.call(lanes, function (r) { r.setAttribute("width", width); });
      geo.forEach(function (g) {
        var x = L + (g.x - L) * zoom;
        if (g.e.tagName === "line") {
          g.e.setAttribute("x1", x); g.e.setAttribute("x2", x);
        } else {
          g.e.setAttribute("x", x);
          if (g.w) g.e.setAttribute("width", Math.max(1, g.w * zoom));
        }
      });
      Array.prototype.forEach.call(gauges, function (p) {
        p.setAttribute("transform", "translate(" + L + ",0) scale(" + zoom + ",1) translate(" + -L + ",0)");
        p.setAttribute("vector-effect", "non-scaling-stroke");
      });
      axis();
      chart.scrollLeft = Math.max(0, L + f * W * zoom - at);
      sticky.setAttribute("transform", "translate(" + chart.scrollLeft + ",0)");
    }

    chart.addEventListener("wheel", function (ev) {
      if (!ev.ctrlKey) return;
      ev.preventDefault();
      var box = chart.getBoundingClientRect();
      apply(zoom * (ev.deltaY < 0 ? 1.25 : 0.8), ev.clientX - box.left);
    }, { passive: false });
    if (controls) {
      controls.addEventListener("click", function (ev) {
        var b = ev.target.closest("button");
        if (!b) return;
        if (b.dataset.zoom === "in") apply(zoom * 2);
        if (b.dataset.zoom === "out") apply(zoom / 2);
        if (b.dataset.zoom === "fit") apply(1);
      });
    }
  }

  Array.prototype.forEach.call(document.querySelectorAll("div.chart"), function (chart) {
    var controls = chart.previousElementSibling;
    setup(chart, controls && controls.classList.contains("zoom") ? controls : null);
  });
  if (window.PmrunView) window.PmrunView.drawAll();
})();
