// pmrun's drawing of one run of a program's threads (package view's Run,
// as JSON): a lane per thread with its code and the numbers of the steps
// it took at each line, the steps in order as a table with the shared
// values after each (the changed ones marked), the broken rule, a
// deadlock's wait-for graph, the search as numbers, the command that
// replays the run. Written by hand, with no library, so that a page that
// holds it works offline. Text always goes in as text (textContent),
// never as HTML.
//
//   PmrunView.draw(element, run, options) draws run into element and
//   returns {select(n)}, which selects step n (0: before the first).
//   options: quiz (hide the values until the final ones are predicted),
//   onSelect(n), compact (leave out the header: a page that shows it
//   itself), tableOnly (the steps' table alone: a game's run so far).
//   PmrunView.drawAll() draws every <script type="application/json"
//   class="pmrun-run"> of the page into the element its data-into names.
(function (global) {
  "use strict";

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function svg(tag, attrs) {
    var e = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    return e;
  }
  // base is a path's last element: a source file's name, as a lane shows it.
  function base(path) { return path.replace(/^.*\//, ""); }
  function plural(n, one, many) { return n === 1 ? one : many; }
  function num(n) { return Number(n).toLocaleString("en-US"); }

  var verdictWords = {
    pass: "passed", assert: "an assert failed", expect: "expect failed",
    invariant: "an invariant broke", mutual_exclusion: "mutual exclusion broke",
    misuse: "misuse", deadlock: "deadlock", max_steps: "no end (max_steps)",
    starvation: "a thread starves (it never makes progress again)",
    incomplete: "incomplete: the search stopped before it finished, and proves nothing"
  };

  // shown is how a shared object's value reads: a mutex's holder, or free.
  function shown(sh, v) {
    if (sh.kind === "mutex") return v ? v : "free";
    return v;
  }

  // copyText puts text on the clipboard, with a fallback for pages opened
  // from a file, where navigator.clipboard may be missing.
  function copyText(text, button) {
    function done(ok) {
      var old = button.dataset.label || button.textContent;
      button.dataset.label = old;
      button.textContent = ok ? "Copied" : "Select and copy";
      setTimeout(function () { button.textContent = old; }, 1500);
    }
    if (navigator.clipboard && global.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { done(true); }, function () { done(fallback()); });
      return;
    }
    done(fallback());
    function fallback() {
      var ta = el("textarea");
      ta.value = text;
      ta.setAttribute("readonly", "");
      ta.style.position = "fixed";
      ta.style.opacity = "0";
      document.body.appendChild(ta);
      ta.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      document.body.removeChild(ta);
      return ok;
    }
  }

  function replayBox(run) {
    var box = el("div", "pv-replay");
    box.appendChild(el("span", "pv-label", "Replay it on real threads:"));
    var code = el("code", "pv-cmd", run.replay);
    box.appendChild(code);
    var b = el("button", "pv-copy", "Copy");
    b.type = "button";
    b.title = "Copy the command line";
    b.addEventListener("click", function () { copyText(run.replay, b); });
    box.appendChild(b);
    return box;
  }

  // playBox is the command that opens the run in pmrun play.
  function playBox(run) {
    var box = el("div", "pv-replay pv-play");
    box.appendChild(el("span", "pv-label", "Step through it:"));
    box.appendChild(el("code", "pv-cmd", run.play));
    var b = el("button", "pv-copy", "Copy");
    b.type = "button";
    b.title = "Copy the command line";
    b.addEventListener("click", function () { copyText(run.play, b); });
    box.appendChild(b);
    return box;
  }

  function searchBox(s) {
    var box = el("div", "pv-search");
    var parts = [];
    var what = s.unit || "run";
    parts.push([s.free ? "free runs (scheduler: " + s.scheduler + ")" : s.scheduler + " search", ""]);
    parts.push([num(s.runs) + " " + plural(s.runs, what, what + "s"), "runs"]);
    parts.push([num(s.failures) + " failed", s.failures ? "bad" : ""]);
    if (s.states) parts.push([num(s.states) + " states", "states"]);
    // A count that saturated (2^63 - 1) is only a lower bound.
    if (s.interleavings) parts.push([(s.interleavings >= 9.2e18 ? "over 9.2·10¹⁸" : num(s.interleavings)) + " interleavings", ""]);
    if (s.proof) {
      parts.push([s.complete ? "complete: every state explored" : "not complete", s.complete ? "good" : "warn"]);
    } else if (!s.free) {
      parts.push([s.complete ? "every run made" : "not every run made", s.complete ? "" : "warn"]);
    }
    if (s.limit_reached) parts.push(["stopped at its limit of " + num(s.limit) + " " + what + "s", "warn"]);
    else if (s.limit) parts.push(["limit " + num(s.limit) + " " + what + "s, not reached", ""]);
    if (s.pct_bound) {
      parts.push(["pct_bound " + s.pct_bound.toPrecision(3) + " a run (depth " + s.depth + ")", ""]);
      if (s.chance) parts.push(["chance over the runs ≥ " + (100 * s.chance).toPrecision(3) + "%", ""]);
    }
    if (s.bounded) {
      var b = s.bound || 0;
      parts.push([b < 0 ? "not every run with no preemption made" : "every run with up to " + b + " " + plural(b, "preemption", "preemptions") + " made", b < 0 ? "warn" : ""]);
    }
    if (s.runtime) parts.push([s.runtime, ""]);
    parts.forEach(function (p) { box.appendChild(el("span", "pv-num " + p[1], p[0])); });
    return box;
  }

  // lanes draws each thread's code, each line with the numbers of the
  // steps the thread took there.
  function lanes(run, state) {
    var box = el("div", "pv-lanes");
    var at = run.threads.map(function () { return {}; });
    run.steps.forEach(function (st) {
      if (st.file) return; // a line of another file than the lane's
      var m = at[st.thread];
      (m[st.line] = m[st.line] || []).push(st);
    });
    state.lineRows = [];
    state.badges = {};
    var stuckAt = {};
    if (run.deadlock) run.deadlock.nodes.forEach(function (nd) { if (nd.state === "blocked") stuckAt[nd.thread] = nd; });
    run.threads.forEach(function (th, t) {
      var lane = el("div", "pv-lane");
      var head = el("div", "pv-lane-head");
      head.appendChild(el("span", "pv-key", th.key));
      head.appendChild(el("span", "pv-name", th.name));
      if (th.file) {
        var f = el("span", "pv-file", base(th.file));
        f.title = th.file;
        head.appendChild(f);
      }
      lane.appendChild(head);
      var rows = {};
      (th.code || []).forEach(function (ln) {
        var row = el("div", "pv-line");
        row.appendChild(el("span", "pv-ln", ln.n));
        row.appendChild(el("span", "pv-src", ln.text || " "));
        var steps = at[t][ln.n] || [];
        if (steps.length) {
          row.classList.add("pv-ran");
          var bs = el("span", "pv-badges");
          var shownSteps = steps.length > 8 ? steps.slice(0, 3).concat([null]).concat(steps.slice(-4)) : steps;
          shownSteps.forEach(function (st) {
            if (!st) { bs.appendChild(el("span", "pv-more", "…")); return; }
            var b = el("span", "pv-badge" + (st.failed ? " pv-failed" : ""), st.n);
            b.title = "step " + st.n + ": " + st.op;
            b.dataset.step = st.n;
            b.addEventListener("click", function () { state.select(st.n); });
            state.badges[st.n] = b;
            bs.appendChild(b);
          });
          row.appendChild(bs);
        }
        if (run.line && ln.n === run.line && run.verdict !== "pass" && run.verdict !== "deadlock") row.classList.add("pv-rule-line");
        var stuck = stuckAt[th.name];
        if (stuck && stuck.line === ln.n) {
          row.classList.add("pv-stuck");
          row.appendChild(el("span", "pv-tag pv-waits", "stuck: waits for " + stuck.waits));
        }
        rows[ln.n] = row;
        lane.appendChild(row);
      });
      state.lineRows.push(rows);
      box.appendChild(lane);
    });
    return box;
  }

  function table(run, state, quiz) {
    var wrap = el("div", "pv-table-wrap");
    var tb = el("table", "pv-table");
    var head = el("tr");
    head.appendChild(el("th", "pv-n", "#"));
    run.threads.forEach(function (th) { head.appendChild(el("th", "pv-th", th.key + " " + th.name)); });
    run.shared.forEach(function (sh) {
      var th = el("th", "pv-val pv-" + sh.kind, sh.name);
      th.title = sh.kind;
      head.appendChild(th);
    });
    var thead = el("thead");
    thead.appendChild(head);
    tb.appendChild(thead);
    var body = el("tbody");
    // given: the values before the first step, which a quiz shows.
    function valueCells(tr, values, changed, given) {
      run.shared.forEach(function (sh, i) {
        var td = el("td", "pv-val pv-" + sh.kind, quiz && !given ? "?" : shown(sh, values[i]));
        if (changed && changed.indexOf(i) >= 0) td.classList.add("pv-changed");
        td.dataset.value = shown(sh, values[i]);
        tr.appendChild(td);
      });
    }
    var start = el("tr", "pv-start");
    start.appendChild(el("td", "pv-n", run.skipped ? "…" : ""));
    var note = el("td", "pv-note", run.skipped ? num(run.skipped) + " earlier steps not shown" : "before the first step");
    note.colSpan = run.threads.length;
    start.appendChild(note);
    valueCells(start, run.shared.map(function (sh) { return sh.initial; }), null, true);
    start.addEventListener("click", function () { state.select(0); });
    body.appendChild(start);
    state.rows = {};
    run.steps.forEach(function (st) {
      var tr = el("tr", st.failed ? "pv-failed" : "");
      tr.appendChild(el("td", "pv-n", st.n));
      run.threads.forEach(function (th, t) {
        var td = el("td", "pv-cell");
        if (t === st.thread) {
          td.classList.add("pv-took");
          if (st.line) { // 0: no source line (a script's point without --at)
            var ln = el("span", "pv-ln", st.line);
            if (st.file || th.file) ln.title = (st.file || th.file) + ":" + st.line;
            td.appendChild(ln);
          }
          td.appendChild(el("span", "pv-op", st.op));
          if (st.blocked) td.appendChild(el("span", "pv-tag", "waits"));
          if (st.log) td.appendChild(el("span", "pv-log", "log: " + st.log));
          if (st.failed) td.appendChild(el("span", "pv-x", "✗"));
        }
        tr.appendChild(td);
      });
      valueCells(tr, st.values, st.changed);
      tr.addEventListener("click", function () { state.select(st.n); });
      state.rows[st.n] = tr;
      body.appendChild(tr);
    });
    if (run.verdict !== "pass" && run.verdict !== "incomplete" && run.rule) {
      var fr = el("tr", "pv-rule-row");
      var x = el("td", "pv-n", quiz ? "?" : "✗");
      if (quiz) x.dataset.hidden = "✗";
      fr.appendChild(x);
      var td = el("td", "pv-rule", quiz ? "? (how the run ends is shown when you check)" : run.rule);
      if (quiz) td.dataset.hidden = run.rule;
      td.colSpan = run.threads.length + run.shared.length;
      fr.appendChild(td);
      body.appendChild(fr);
    }
    tb.appendChild(body);
    wrap.appendChild(tb);
    return wrap;
  }

  // graph draws a deadlock's wait-for graph: the threads on a circle,
  // an arrow from each blocked thread to each thread that could release
  // what it waits for, the circular wait in red.
  function graph(g) {
    g.nodes = g.nodes || [];
    g.edges = g.edges || [];
    var box = el("div", "pv-graph");
    box.appendChild(el("div", "pv-label", "Who waits for whom"));
    var n = g.nodes.length;
    var longest = 0;
    g.nodes.forEach(function (nd) {
      longest = Math.max(longest, nd.thread.length + 12, nodeHolds(nd).length, nd.waits ? nodeWaits(nd).length : 0);
    });
    var w = Math.max(150, Math.round(longest * 6.6) + 20), h = 62;
    var r = n <= 1 ? 0 : Math.max(w / 2 + 90, (n * (w + 130)) / (2 * Math.PI));
    var start = n === 2 ? Math.PI : -Math.PI / 2; // two side by side; more from the top
    var pos = {}, x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    g.nodes.forEach(function (nd, i) {
      var a = start + (2 * Math.PI * i) / Math.max(n, 1);
      var p = { x: r * Math.cos(a), y: r * Math.sin(a) };
      pos[nd.thread] = p;
      x0 = Math.min(x0, p.x - w / 2); x1 = Math.max(x1, p.x + w / 2);
      y0 = Math.min(y0, p.y - h / 2); y1 = Math.max(y1, p.y + h / 2);
    });
    var pad = 40;
    x0 -= pad; y0 -= pad; x1 += pad; y1 += pad;
    var W = Math.round(x1 - x0), H = Math.round(y1 - y0);
    var s = svg("svg", { width: W, height: H, viewBox: x0 + " " + y0 + " " + W + " " + H, role: "img", "aria-label": "wait-for graph" });
    var defs = svg("defs", {});
    ["plain", "cycle"].forEach(function (k) {
      var m = svg("marker", { id: "pv-arrow-" + k + "-" + graph.seq, viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" });
      m.appendChild(svg("path", { d: "M0,0 L10,5 L0,10 z", "class": "pv-arrow-" + k }));
      defs.appendChild(m);
    });
    s.appendChild(defs);
    // The point where the line from a to b leaves a's box.
    function border(a, b) {
      var dx = b.x - a.x, dy = b.y - a.y;
      if (!dx && !dy) return { x: a.x, y: a.y };
      var t = Math.min(w / 2 / Math.abs(dx || 1e-9), h / 2 / Math.abs(dy || 1e-9));
      return { x: a.x + dx * t, y: a.y + dy * t };
    }
    g.edges.forEach(function (e) {
      var a = pos[e.from], b = pos[e.to];
      if (!a || !b || e.from === e.to) return;
      var p0 = border(a, b), p1 = border(b, a);
      var mx = (p0.x + p1.x) / 2, my = (p0.y + p1.y) / 2;
      var dx = p1.x - p0.x, dy = p1.y - p0.y, len = Math.sqrt(dx * dx + dy * dy) || 1;
      var bend = 28; // reciprocal edges bend apart
      var qx = mx - (dy / len) * bend, qy = my + (dx / len) * bend;
      var k = e.cycle ? "cycle" : "plain";
      var path = svg("path", { d: "M" + p0.x + "," + p0.y + " Q" + qx + "," + qy + " " + p1.x + "," + p1.y, "class": "pv-edge pv-" + k, "marker-end": "url(#pv-arrow-" + k + "-" + graph.seq + ")" });
      var title = svg("title", {});
      title.textContent = e.from + " waits for " + e.object + (e.holder ? ", held by " : ", which ") + e.to + (e.holder ? "" : " could signal");
      path.appendChild(title);
      s.appendChild(path);
      var lbl = svg("text", { x: (mx + qx) / 2, y: (my + qy) / 2, "class": "pv-edge-label pv-" + k, "text-anchor": "middle" });
      lbl.textContent = e.object + (e.holder ? " (held)" : "");
      s.appendChild(lbl);
    });
    g.nodes.forEach(function (nd) {
      var p = pos[nd.thread];
      var gr = svg("g", { "class": "pv-node pv-" + nd.state, transform: "translate(" + (p.x - w / 2) + "," + (p.y - h / 2) + ")" });
      gr.appendChild(svg("rect", { width: w, height: h, rx: 8 }));
      var t1 = svg("text", { x: 10, y: 19, "class": "pv-node-name" });
      t1.textContent = nd.thread + (nd.state === "blocked" ? "" : " (" + nd.state + ")");
      gr.appendChild(t1);
      var t2 = svg("text", { x: 10, y: 37 });
      t2.textContent = nodeHolds(nd);
      gr.appendChild(t2);
      if (nd.waits) {
        var t3 = svg("text", { x: 10, y: 54 });
        t3.textContent = nodeWaits(nd);
        gr.appendChild(t3);
      }
      s.appendChild(gr);
    });
    graph.seq++;
    box.appendChild(s);
    if (g.cycle && g.cycle.length) box.appendChild(el("div", "pv-cycle", "cycle: " + g.cycle.join(" → ")));
    return box;
  }
  graph.seq = 0;
  function nodeHolds(nd) { return nd.holds && nd.holds.length ? "holds " + nd.holds.join(", ") : "holds no mutex"; }
  function nodeWaits(nd) { return "waits for " + nd.waits + " (line " + nd.line + ")"; }

  function player(run, state) {
    var box = el("div", "pv-player");
    var prev = el("button", "pv-prev", "◀");
    prev.type = "button";
    prev.title = "the step before (←)";
    var next = el("button", "pv-next", "▶");
    next.type = "button";
    next.title = "the next step (→)";
    var range = el("input", "pv-range");
    range.type = "range";
    range.min = run.skipped ? run.skipped : 0;
    range.max = run.skipped + run.steps.length;
    range.value = range.max;
    range.setAttribute("aria-label", "step");
    var said = el("span", "pv-said");
    prev.addEventListener("click", function () { state.select(state.at - 1); });
    next.addEventListener("click", function () { state.select(state.at + 1); });
    range.addEventListener("input", function () { state.select(Number(range.value)); });
    box.appendChild(prev);
    box.appendChild(range);
    box.appendChild(next);
    box.appendChild(said);
    state.range = range;
    state.said = said;
    return box;
  }

  function quizBox(run, root) {
    var box = el("form", "pv-quiz");
    box.appendChild(el("div", "pv-label", "Quiz: the values are hidden. What are they after the last step?"));
    var inputs = [];
    var last = run.steps.length ? run.steps[run.steps.length - 1].values : run.shared.map(function (sh) { return sh.initial; });
    run.shared.forEach(function (sh, i) {
      var lab = el("label", "pv-guess");
      lab.appendChild(el("span", "", sh.name + " ="));
      var inp = el("input");
      inp.name = sh.name;
      inp.size = 5;
      inp.autocomplete = "off";
      lab.appendChild(inp);
      inputs.push(inp);
      box.appendChild(lab);
    });
    var check = el("button", "pv-check", "Check");
    check.type = "submit";
    box.appendChild(check);
    var result = el("div", "pv-quiz-result");
    box.appendChild(result);
    box.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var right = 0;
      run.shared.forEach(function (sh, i) {
        var want = shown(sh, last[i]);
        var got = inputs[i].value.trim();
        var ok = got === String(want) || (sh.kind === "mutex" && want === "free" && got === "");
        inputs[i].classList.toggle("pv-right", ok);
        inputs[i].classList.toggle("pv-wrong", !ok);
        if (!ok) inputs[i].title = "it was " + want;
        if (ok) right++;
      });
      result.textContent = right + " of " + run.shared.length + " right. The values are shown now.";
      var cells = root.querySelectorAll("td.pv-val");
      Array.prototype.forEach.call(cells, function (td) { td.textContent = td.dataset.value; });
      Array.prototype.forEach.call(root.querySelectorAll("[data-hidden]"), function (e) { e.textContent = e.dataset.hidden; });
      root.classList.remove("pv-quiz-on");
      if (root.pvSelect) root.pvSelect(run.skipped + run.steps.length);
    });
    return box;
  }

  function draw(into, run, opts) {
    opts = opts || {};
    run.skipped = run.skipped || 0;
    run.steps = run.steps || [];
    run.shared = run.shared || [];
    run.threads = run.threads || [];
    var quiz = !!opts.quiz;
    var look = run.verdict === "pass" ? " pv-pass" : run.verdict === "incomplete" ? " pv-incomplete" : " pv-broke";
    var root = el("section", "pv" + look + (quiz ? " pv-quiz-on" : ""));
    var state = { at: run.skipped + run.steps.length, select: function () {} };
    if (opts.tableOnly) {
      root.classList.add("pv-table-only");
      root.appendChild(table(run, state, false));
      into.textContent = "";
      into.appendChild(root);
      var lastRow = state.rows[state.at];
      if (lastRow) lastRow.classList.add("pv-sel");
      return { select: state.select, element: root };
    }
    if (!opts.compact) {
      var head = el("div", "pv-head");
      head.appendChild(el("span", "pv-verdict", run.verdict === "pass" ? "pass" : run.verdict));
      var what = {
        search: run.verdict === "pass" ? "the last run of the search" : "the failure the search found",
        replay: "a replay", manual: "a game", free: run.verdict === "pass" ? "a free run" : "the failure a free run found"
      }[run.kind] || "a run";
      head.appendChild(el("span", "pv-title", "Program " + run.program + ": " + what + ", " + num(run.skipped + run.steps.length) + " " + plural(run.steps.length, "step", "steps") + " — " + (verdictWords[run.verdict] || run.verdict)));
      root.appendChild(head);
      if (run.failure) root.appendChild(el("div", "pv-failure", run.explanation ? run.failure.split("\n")[0] : run.failure));
    }
    if (run.search) root.appendChild(searchBox(run.search));
    if (run.note) root.appendChild(el("div", "pv-note", run.note));
    if (run.replay && !opts.compact) root.appendChild(replayBox(run));
    if (run.play && !opts.compact) root.appendChild(playBox(run));
    if (quiz) root.appendChild(quizBox(run, root));
    // A search that found nothing shows its numbers; its last run, which
    // proves nothing, is there for whoever opens it.
    var body = root;
    if (run.kind === "search" && (run.verdict === "pass" || run.verdict === "incomplete") && run.steps.length) {
      body = el("details", "pv-last");
      body.appendChild(el("summary", "", "its last run, " + num(run.steps.length) + " steps"));
      root.appendChild(body);
    }
    body.appendChild(player(run, state));
    var values = el("div", "pv-values");
    body.appendChild(values);
    body.appendChild(lanes(run, state));
    body.appendChild(table(run, state, quiz));
    if (run.deadlock) root.appendChild(graph(run.deadlock));
    if (run.explanation) root.appendChild(el("pre", "pv-explain", run.explanation));

    state.select = function (n) {
      var lo = run.skipped, hi = run.skipped + run.steps.length;
      n = Math.max(lo, Math.min(hi, n));
      state.at = n;
      state.range.value = n;
      Array.prototype.forEach.call(root.querySelectorAll(".pv-sel"), function (x) { x.classList.remove("pv-sel"); });
      var st = n > lo ? run.steps[n - lo - 1] : null;
      var vals = st ? st.values : run.steps.length && lo ? null : run.shared.map(function (sh) { return sh.initial; });
      values.textContent = "";
      if (st) {
        if (state.rows[n]) state.rows[n].classList.add("pv-sel");
        if (state.badges[n]) state.badges[n].classList.add("pv-sel");
        var row = st.file ? null : state.lineRows[st.thread][st.line];
        if (row) row.classList.add("pv-sel");
        var hidden = root.classList.contains("pv-quiz-on");
        var who = run.threads[st.thread];
        state.said.textContent = "step " + n + " of " + hi + ": " + who.name + (st.line ? " " + (st.file || who.file ? base(st.file || who.file) + ":" : "") + st.line : "") + ": " + st.op + (st.failed && !hidden ? " ✗ " + run.rule : "");
      } else {
        state.said.textContent = n === 0 ? "before the first step" : "step " + n;
      }
      if (vals && !root.classList.contains("pv-quiz-on")) {
        run.shared.forEach(function (sh, i) {
          var v = el("span", "pv-v pv-" + sh.kind + (st && st.changed && st.changed.indexOf(i) >= 0 ? " pv-changed" : ""));
          v.appendChild(el("span", "pv-vn", sh.name));
          v.appendChild(el("span", "pv-vv", shown(sh, vals[i])));
          values.appendChild(v);
        });
      }
      if (opts.onSelect) opts.onSelect(n);
    };
    root.pvSelect = state.select;
    root.tabIndex = 0;
    root.addEventListener("keydown", function (ev) {
      if (ev.target.tagName === "INPUT" && ev.target.type !== "range") return;
      if (ev.key === "ArrowLeft") { state.select(state.at - 1); ev.preventDefault(); }
      if (ev.key === "ArrowRight") { state.select(state.at + 1); ev.preventDefault(); }
    });
    into.textContent = "";
    into.appendChild(root);
    state.select(state.at);
    return { select: state.select, element: root };
  }

  function drawAll() {
    var blocks = document.querySelectorAll('script[type="application/json"].pmrun-run');
    Array.prototype.forEach.call(blocks, function (b) {
      var into = document.getElementById(b.dataset.into);
      if (!into) return;
      try {
        draw(into, JSON.parse(b.textContent));
      } catch (e) {
        into.textContent = "could not draw this run: " + e;
        console.error("pmrun: could not draw a run:", e);
      }
    });
  }

  global.PmrunView = { draw: draw, drawAll: drawAll, copyText: copyText, graph: graph, lanes: lanes };
})(window);
