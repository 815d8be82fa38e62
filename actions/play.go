package actions

import (
	"context"
	"fmt"
	"time"

	"github.com/pmrun/pmrun/actions/contract/view"
	"github.com/pmrun/pmrun/actions/internal/picture"
	"github.com/pmrun/pmrun/actions/internal/play"
	"github.com/pmrun/pmrun/actions/internal/program"
)

// PlayOptions say how pmrun play serves its game (package play).
type PlayOptions struct {
	// File is the scenario file and Source its text, for each thread's
	// code and the replay command.
	File   string
	Source []byte
	// Rerun are the arguments of pmrun run for the replay command (the
	// file, its --var values, a seed); nil: the file alone. Seed, if not
	// 0, seeds the page's searches and quizzes.
	Rerun []string
	Seed  uint64
	// Open, if set, is a schedule or replay command to open at the
	// start: the game is of its program, not name's.
	Open string
	// Idle ends the game when its page has been closed that long (0: 30 s);
	// Limit, if not 0, after that long in any case, with a warning on the
	// page in the last minute.
	Idle, Limit time.Duration
	// Ready is called with the page's address once it is served.
	Ready func(url string)
	// Say is told why the game ends, when it is not ctx.
	Say func(format string, args ...any)
}

// PlayPage serves the manual scheduler of the program called name of a
// scenario's programs: section (its value in lang.Scenario.Sections) as a
// page in a browser, on 127.0.0.1, until ctx ends or the page has been
// closed a while: pmrun play. Each step the player picks is taken by the
// thread's own OS thread, as under scheduler: manual.
func PlayPage(ctx context.Context, section any, name string, o PlayOptions) error {
	set, _ := section.(*program.Set)
	if set == nil {
		return fmt.Errorf("%s has no programs: section", o.File)
	}
	if _, err := set.Program(name); err != nil {
		return err
	}
	return play.Serve(ctx, play.Options{
		Set: set, File: o.File, Source: o.Source, Program: name, Rerun: o.Rerun, Seed: o.Seed, Open: o.Open,
		Idle: o.Idle, Limit: o.Limit, Ready: o.Ready, Say: o.Say,
	})
}

// ShownOptions say which run of a real program pmrun play shows: the
// step that made it and its action (controlled, scripts), and the
// arguments of pmrun play that search again (the file, its --var values).
type ShownOptions struct {
	Step, Action string
	Again        []string
}

// PlayRun serves a page that shows run, the run a controlled or scripts
// step showed (a real program's: pmrun has no model to play), to step
// through, until ctx ends or the page has been closed a while: pmrun play
// of a file whose steps run real programs.
func PlayRun(ctx context.Context, run *view.Run, s ShownOptions, o PlayOptions) error {
	if run == nil {
		return fmt.Errorf("%s: no run to show", o.File)
	}
	again := "pmrun play"
	for _, a := range s.Again {
		again += " " + picture.ShellQuote(a)
	}
	return play.Serve(ctx, play.Options{
		File: o.File, Idle: o.Idle, Limit: o.Limit, Ready: o.Ready, Say: o.Say,
		Shown: &play.Shown{Run: run, Step: s.Step, Action: s.Action, Again: again},
	})
}
