package contract

// The runner's own events: a run of pmrun run or pmrun menu (run_start,
// run_end), its scenarios and their steps. They are declared here, by
// name, rather than as an [Event] of an action: the timeline draws runs,
// scenarios and steps itself, the console's live line follows the steps,
// and cmd/pmbench times them, all by these names.
const (
	RunStart      = "run_start"
	RunEnd        = "run_end"
	ScenarioStart = "scenario_start"
	ScenarioEnd   = "scenario_end"
	StepStart     = "step_start"
	StepEnd       = "step_end"
	// CleanupFailed says that releasing what a scenario held failed.
	CleanupFailed = "cleanup"
)

// runnerEvents are the runner's own events.
var runnerEvents = []string{RunStart, RunEnd, ScenarioStart, ScenarioEnd, StepStart, StepEnd, CleanupFailed}

// Declared reports whether an event of that name is declared: one of the
// runner's own, or one an action or the host declares in r. An event
// that is not is drawn nowhere; the tests hold every event pmrun logs to
// a declaration (runner.EventLog.CheckDeclared, and a scan of the
// source).
func (r *Registry) Declared(name string) bool {
	if _, ok := r.events[name]; ok {
		return true
	}
	for _, e := range runnerEvents {
		if e == name {
			return true
		}
	}
	return false
}
