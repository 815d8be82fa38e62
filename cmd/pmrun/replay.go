package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/pmrun/pmrun/actions"
	"github.com/pmrun/pmrun/runner/lang"
)

// checkReplays refuses a --replay that no step of the scenarios would
// replay: one for a program that no step runs (a schedule printed by a
// run with --var values, given without them, would otherwise replay
// nothing and pass). A step whose program only a run can tell (a
// template of a step's result) might run it, and is given the benefit of
// the doubt.
func checkReplays(schedules []string, scenarios []*lang.Scenario) error {
	for _, text := range schedules {
		name, err := actions.ScheduleProgram(text)
		if err != nil {
			return usageErrorf("--replay: %v", err)
		}
		used, unknown := false, false
		for _, sc := range scenarios {
			names, dyn := sc.Refs(actions.ProgramRef)
			used = used || slices.Contains(names, name)
			unknown = unknown || dyn || runsBinaries(sc)
		}
		if used || unknown {
			continue
		}
		return usageErrorf("--replay %s: %s", shortSchedule(text), notReplayed(name, scenarios))
	}
	return nil
}

// runsBinaries says whether a scenario has controlled or scripts steps: a
// schedule there names a binary, which a step's cmd gives only when it
// runs (a program compiled into run.tmp), or a scripts step's name.
func runsBinaries(sc *lang.Scenario) bool {
	for _, st := range append(slices.Clip(sc.Steps), sc.Finally...) {
		if st.Action == "controlled" || st.Action == "scripts" {
			return true
		}
	}
	return false
}

// notReplayed says why no step of scenarios replays a schedule of
// program name, and what their steps run instead.
func notReplayed(name string, scenarios []*lang.Scenario) string {
	if len(scenarios) != 1 {
		return fmt.Sprintf("no step of the %d scenarios runs program %s", len(scenarios), name)
	}
	sc := scenarios[0]
	runs, _ := sc.Refs(actions.ProgramRef)
	msg := fmt.Sprintf("no step of %s runs program %s", sc.File, name)
	if len(runs) > 0 {
		msg += "; its steps run " + strings.Join(runs, ", ")
	}
	declared := false
	for _, p := range actions.Programs(sc.Sections[actions.ProgramsKey]) {
		declared = declared || p.Name == name
	}
	switch {
	case declared && len(sc.Vars) > 0:
		msg += fmt.Sprintf(" (%s is under its programs:, so the run that printed this schedule chose it with --var: give the same --var values)", name)
	case !declared:
		msg += fmt.Sprintf(" (its programs: has no %s)", name)
	}
	return msg
}

// shortSchedule is a schedule as an error message shows it: its program
// and hash, without the steps, which can be long.
func shortSchedule(text string) string {
	if i := strings.LastIndexByte(text, ':'); i >= 0 && len(text)-i > 12 {
		return text[:i+1] + "…"
	}
	return text
}

// maxScheduleFile caps a schedule read from a file (--replay @FILE): the
// longest run's (max_steps) schedule with room to spare, and no more, so
// that a mistaken path (/dev/zero, a log) stops at once.
const maxScheduleFile = 128 << 20

// readSchedule is a --replay value: the schedule itself, or @FILE, the
// schedule in FILE (a schedule too long to print is given so).
func readSchedule(arg string) (string, error) {
	path, ok := strings.CutPrefix(arg, "@")
	if !ok {
		return arg, nil
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() && fi.Size() > maxScheduleFile {
		return "", fmt.Errorf("%s is larger than %d MiB: no schedule is that long", path, maxScheduleFile>>20)
	}
	data, err := lang.ReadScenario(context.Background(), path, maxScheduleFile)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(data)), nil
}
