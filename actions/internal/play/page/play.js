// pmrun play's page: it shows the game the server holds (GET api/state)
// and sends the player's moves (POST api/step, undo, restart, forward,
// program, open, search, quiz); every answer is the game's new state,
// drawn again whole. An event stream (api/events) tells the server the
// page is open, and the page when the server ends. Text goes in as text.
(function () {
  "use strict";
  var base = location.pathname.replace(/[^/]*$/, "");
  var st = null; // the last state
  var ended = false;
  var busy = false;

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function say(text, bad) {
    var m = $("message");
    m.textContent = text || "";
    m.className = "message" + (bad ? " bad" : "");
  }

  function call(name, body) {
    if (ended || busy) return Promise.resolve(null);
    busy = true;
    document.body.classList.add("busy");
    return fetch(base + "api/" + name, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body || {})
    }).then(function (r) {
      if (!r.ok) return r.text().then(function (t) { throw new Error(t.trim() || r.statusText); });
      return r.json();
    }).then(function (v) {
      busy = false;
      document.body.classList.remove("busy");
      return v;
    }, function (e) {
      busy = false;
      document.body.classList.remove("busy");
      say(String(e.message || e), true);
      return null;
    });
  }

  function act(name, body) {
    return call(name, body).then(function (s) { if (s) draw(s); });
  }

  function load() {
    fetch(base + "api/state").then(function (r) { return r.json(); }).then(draw, function (e) { say("cannot reach pmrun play: " + e, true); });
  }

  function draw(s) {
    st = s;
    drawHeader(s);
    drawStatus(s);
    drawShared(s);
    drawThreads(s);
    drawPlan(s);
    var won = $("won"), history = $("history");
    if (s.over) {
      won.hidden = false;
      history.hidden = true;
      PmrunView.draw(won, s.run);
    } else {
      won.hidden = true;
      won.textContent = "";
      history.hidden = false;
      PmrunView.draw($("table"), s.run, { tableOnly: true });
    }
    $("sched").textContent = s.run.steps.length ? s.schedule : "(no step yet)";
    $("undo").disabled = s.run.steps.length === 0;
    if (s.remaining >= 0) timer(s.remaining);
  }

  function drawHeader(s) {
    var pick = $("program");
    pick.textContent = "";
    s.programs.forEach(function (p) {
      var o = el("option", "", p.name + (p.description ? " — " + p.description : ""));
      o.value = p.name;
      o.selected = p.name === s.program;
      pick.appendChild(o);
    });
    $("file").textContent = s.file ? "in " + s.file : "";
    document.title = "pmrun play: " + s.program;
  }

  function drawStatus(s) {
    var line = $("status");
    var n = s.run.steps.length;
    if (s.won) {
      line.className = "status won";
      line.textContent = "You broke it! " + s.run.rule;
    } else if (s.over) {
      line.className = "status survived";
      line.textContent = "Every thread finished and every check held: the program survived this schedule. Undo or restart to try another order.";
    } else {
      line.className = "status";
      var keys = s.threads.filter(function (t) { return t.state === "ready"; }).map(function (t) { return t.key; });
      line.textContent = "Step " + (n + 1) + ": choose the thread that goes next — click it or press its key (" + keys.join(", ") + ").";
    }
    say(s.message, !!s.message && !/ search found /.test(s.message));
  }

  function drawShared(s) {
    var box = $("shared");
    box.textContent = "";
    var groups = [["var", "shared variables"], ["semaphore", "semaphores"], ["mutex", "mutexes"]];
    groups.forEach(function (g) {
      var items = s.shared.filter(function (sh) { return sh.kind === g[0]; });
      if (!items.length) return;
      var grp = el("div", "group");
      grp.appendChild(el("span", "label", g[1]));
      items.forEach(function (sh) {
        var changed = false;
        var last = s.run.steps[s.run.steps.length - 1];
        if (last && last.changed) changed = last.changed.indexOf(s.shared.indexOf(sh)) >= 0;
        var v = el("span", "value " + sh.kind + (changed ? " changed" : ""));
        v.appendChild(el("span", "name", sh.name));
        var text = sh.kind === "mutex" ? (sh.value ? "held by " + sh.value : "free") : sh.value;
        v.appendChild(el("span", "v", text));
        v.dataset.name = sh.name;
        grp.appendChild(v);
      });
      box.appendChild(grp);
    });
    if (s.regions.length) {
      var grp = el("div", "group");
      grp.appendChild(el("span", "label", "inside"));
      s.regions.forEach(function (r) {
        var v = el("span", "value region" + (r.inside.length > 1 ? " crowded" : r.inside.length ? " taken" : ""));
        v.appendChild(el("span", "name", r.name));
        v.appendChild(el("span", "v", r.inside.length ? r.inside.join(", ") : "nobody"));
        v.dataset.name = r.name;
        grp.appendChild(v);
      });
      box.appendChild(grp);
    }
  }

  function drawThreads(s) {
    var box = $("threads");
    box.textContent = "";
    box.classList.toggle("over", s.over);
    var ran = s.threads.map(function () { return {}; });
    s.run.steps.forEach(function (step) {
      (ran[step.thread][step.line] = ran[step.thread][step.line] || []).push(step.n);
    });
    var next = s.plan && s.run.steps.length < s.plan.steps.length ? s.plan.steps[s.run.steps.length] : -1;
    s.threads.forEach(function (t, i) {
      var card = el("div", "thread " + t.state + (i === next ? " planned" : ""));
      card.dataset.thread = i;
      card.dataset.key = t.key;
      var head = el("div", "head");
      head.appendChild(el("kbd", "key", t.key));
      head.appendChild(el("span", "name", t.name));
      var what = t.state === "finished" ? "finished" : t.state === "blocked" ? "blocked: waits for " + t.waits : "next: " + t.op;
      head.appendChild(el("span", "what", what));
      card.appendChild(head);
      if (t.regions && t.regions.length) card.appendChild(el("div", "inside", "inside " + t.regions.join(", ")));
      var code = el("div", "code");
      t.code.forEach(function (ln) {
        var row = el("div", "line" + (ln.n === t.line && t.state !== "finished" ? " next" : "") + (ran[i][ln.n] ? " ran" : ""));
        row.appendChild(el("span", "ln", ln.n));
        row.appendChild(el("span", "src", ln.text || " "));
        if (ran[i][ln.n]) {
          var nums = ran[i][ln.n];
          var shown = nums.length > 6 ? nums.slice(0, 2).concat(["…"]).concat(nums.slice(-3)) : nums;
          row.appendChild(el("span", "steps", shown.join(" ")));
        }
        if (ln.n === t.line && t.state !== "finished") {
          row.appendChild(el("span", "op", t.state === "blocked" ? "waits: " + t.op : "▶ " + t.op));
        }
        code.appendChild(row);
      });
      card.appendChild(code);
      if (t.state === "ready" && !s.over) {
        card.tabIndex = 0;
        card.title = "let " + t.name + " take its next step (" + t.key + ")";
        card.addEventListener("click", function () { act("step", { thread: i }); });
        card.addEventListener("keydown", function (ev) {
          if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); act("step", { thread: i }); }
        });
      } else if (t.state === "blocked") {
        card.title = t.name + " waits for " + t.waits + ": another thread must release it";
        card.addEventListener("click", function () { act("step", { thread: i }); });
      }
      box.appendChild(card);
    });
  }

  function drawPlan(s) {
    var plan = $("plan");
    if (!s.plan) { plan.hidden = true; return; }
    plan.hidden = false;
    $("plantext").textContent = s.plan.schedule;
    $("planat").textContent = s.run.steps.length;
    $("planlen").textContent = s.plan.steps.length;
    $("fwd").disabled = s.over || s.run.steps.length >= s.plan.steps.length;
    $("back").disabled = s.run.steps.length === 0;
  }

  var shownTimer = -1;
  function timer(ms) {
    var t = $("timer");
    shownTimer = ms;
    t.hidden = false;
    var sec = Math.ceil(ms / 1000);
    var text = "Time left: " + Math.floor(sec / 60) + ":" + String(sec % 60).padStart(2, "0");
    if (ms < 60000) text += " — the game ends when the time limit is reached (pmrun play --timeout gives more).";
    t.textContent = text;
    t.className = "timer" + (ms < 60000 ? " warn" : "");
  }

  function key(ev) {
    if (!st || ended) return;
    var tag = ev.target.tagName;
    if (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA" || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    for (var i = 0; i < st.threads.length; i++) {
      if (st.threads[i].key === ev.key) {
        ev.preventDefault();
        act("step", { thread: i });
        return;
      }
    }
    if (ev.key === "-" || ev.key === "Backspace" || ev.key === "ArrowLeft" && st.plan) { ev.preventDefault(); act("undo"); }
    if (ev.key === "ArrowRight" && st.plan) { ev.preventDefault(); act("forward"); }
    if (ev.key === "?") $("help").hidden = !$("help").hidden;
  }

  function events() {
    var es = new EventSource(base + "api/events");
    es.addEventListener("time", function (ev) { var ms = Number(ev.data); if (ms >= 0) timer(ms); });
    es.addEventListener("end", function () {
      ended = true;
      es.close();
      $("ended").hidden = false;
      document.body.classList.add("over");
      Array.prototype.forEach.call(document.querySelectorAll("button, select, input"), function (b) { b.disabled = true; });
    });
  }

  $("undo").addEventListener("click", function () { act("undo"); });
  $("restart").addEventListener("click", function () { act("restart"); });
  $("back").addEventListener("click", function () { act("undo"); });
  $("fwd").addEventListener("click", function () { act("forward"); });
  $("search").addEventListener("click", function () { say("Searching every interleaving…"); act("search"); });
  $("program").addEventListener("change", function (ev) { act("program", { program: ev.target.value }); });
  $("helpbtn").addEventListener("click", function () { $("help").hidden = !$("help").hidden; });
  $("openbtn").addEventListener("click", function () { $("open").hidden = false; $("schedule").focus(); });
  $("cancelopen").addEventListener("click", function () { $("open").hidden = true; });
  $("open").addEventListener("submit", function (ev) {
    ev.preventDefault();
    act("open", { schedule: $("schedule").value }).then(function () {
      if (st && st.plan) {
        $("open").hidden = true;
        $("schedule").blur(); // the keys step the schedule now
      }
    });
  });
  $("quizbtn").addEventListener("click", function () {
    call("quiz").then(function (run) {
      if (!run) return;
      $("quiz").hidden = false;
      PmrunView.draw($("quizrun"), run, { quiz: true, compact: true });
      $("quiz").scrollIntoView();
    });
  });
  $("closequiz").addEventListener("click", function () { $("quiz").hidden = true; $("quizrun").textContent = ""; });
  document.addEventListener("keydown", key);
  load();
  events();
})();
