// pmrun play's page for a real program's run (a controlled or scripts
// step's): it fetches the run (GET api/state) and draws it whole with
// view.js, to step through; the arrow keys step anywhere on the page. An
// event stream (api/events) tells the server the page is open, and the
// page when the server ends. Text goes in as text.
(function () {
  "use strict";
  var base = location.pathname.replace(/[^/]*$/, "");
  var shown = null; // what view.js drew: {select(n)}
  var at = 0;       // the step selected

  function $(id) { return document.getElementById(id); }

  var made = {
    controlled: "pmrun ran this program under its scheduler, one thread at a time, and this is the run its step shows: " +
      "the failure its search found, shrunk (or its last run when none failed), or the replay. Each thread's synchronization " +
      "calls are in its column, in order, with the line of the source each came from when the binary has debug information " +
      "(built with -g); a deadlock shows who holds what, who waits for it, and the cycle.",
    scripts: "pmrun ran these processes one at a time between their points and this is the run its step shows: the failure " +
      "its search found, shrunk (or its last run when none failed), or the replay. Each process's points are in its column, " +
      "in order, with the script's line where the point says it (pmrun point --at FILE:LINE)."
  };

  function draw(s) {
    var run = s.run;
    $("what").textContent = (s.action === "scripts" ? "scripts " : "program ") + run.program + (s.step ? " — step: " + s.step : "");
    $("file").textContent = s.file ? "in " + s.file : "";
    document.title = "pmrun play: " + run.program;
    $("made").textContent = made[s.action] || made.controlled;
    $("again").textContent = s.again || "pmrun play " + (s.file || "FILE");
    run.play = ""; // this page is where that command leads
    at = (run.skipped || 0) + (run.steps || []).length;
    shown = PmrunView.draw($("run"), run, { onSelect: function (n) { at = n; } });
    if (s.remaining >= 0) timer(s.remaining);
  }

  function timer(ms) {
    var t = $("timer");
    t.hidden = false;
    var sec = Math.ceil(ms / 1000);
    var text = "Time left: " + Math.floor(sec / 60) + ":" + String(sec % 60).padStart(2, "0");
    if (ms < 60000) text += " — pmrun play ends when the time limit is reached (--timeout gives more).";
    t.textContent = text;
    t.className = "timer" + (ms < 60000 ? " warn" : "");
  }

  document.addEventListener("keydown", function (ev) {
    if (!shown || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    var tag = ev.target.tagName;
    if (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA") return;
    if (ev.defaultPrevented) return; // the drawing's own keys took it
    if (ev.key === "ArrowLeft") { ev.preventDefault(); shown.select(at - 1); }
    if (ev.key === "ArrowRight") { ev.preventDefault(); shown.select(at + 1); }
  });

  fetch(base + "api/state").then(function (r) {
    if (!r.ok) return r.text().then(function (t) { throw new Error(t); });
    return r.json();
  }).then(draw, function (e) {
    $("message").textContent = "cannot reach pmrun play: " + (e.message || e);
  });

  var es = new EventSource(base + "api/events");
  es.addEventListener("time", function (ev) { var ms = Number(ev.data); if (ms >= 0) timer(ms); });
  es.addEventListener("end", function () {
    es.close();
    $("ended").hidden = false;
    document.body.classList.add("over");
  });
})();
