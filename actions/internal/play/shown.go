package play

import (
	"fmt"
	"net/http"

	"github.com/pmrun/pmrun/actions/contract/view"
)

// Shown is a run of a real program that the page shows in place of a
// game: pmrun has no model of a C program or a script, so the page
// cannot let a person take its steps; it shows the run a controlled or
// scripts step found (or replayed), to step through.
type Shown struct {
	// Run is the run, as the report draws it.
	Run *view.Run
	// Step is the step of the file that made it ("find the failure"), and
	// Action its action: controlled (a C or C++ program) or scripts.
	Step, Action string
	// Again is the command line that searches again ("pmrun play FILE
	// --var …"), which the page gives for another run.
	Again string
}

// shownState is what the page of a real program's run shows, as JSON.
type shownState struct {
	File   string    `json:"file"`
	Step   string    `json:"step"`
	Action string    `json:"action"`
	Again  string    `json:"again"`
	Run    *view.Run `json:"run"`
	// Remaining is the time left before the time limit, in
	// milliseconds; -1 without one.
	Remaining int64 `json:"remaining"`
}

// callShown answers the page of a real program's run: its state, and a
// clear refusal of every change a game takes.
func (s *server) callShown(w http.ResponseWriter, r *http.Request, name string) {
	if name != "state" {
		if err := s.sameOrigin(r); err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		s.reply(w, nil, fmt.Errorf("play: %s: this page shows a real program's run, which pmrun cannot step by hand: run pmrun play again with another --seed, or --replay SCHEDULE", name))
		return
	}
	if r.Method != http.MethodGet {
		http.Error(w, "GET only", http.StatusMethodNotAllowed)
		return
	}
	s.reply(w, &shownState{File: s.path, Step: s.shown.Step, Action: s.shown.Action, Again: s.shown.Again, Run: s.shown.Run, Remaining: -1}, nil)
}
