package main

// Option 10: be the scheduler of a synchronization program (the program
// action's scheduler: manual), one of a few built in or one of a lab
// file's. The game reads the menu's own input and is not a step of the
// session: the schedule it prints replays it.

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/pmrun/pmrun/actions"
	"github.com/pmrun/pmrun/actions/contract"
	"github.com/pmrun/pmrun/runner/lang"
)

//go:embed menu_programs.yaml
var menuPrograms []byte

func (m *menu) beScheduler(ctx context.Context) error {
	builtin, err := lang.Parse("menu_programs.yaml", menuPrograms, lang.LoadOptions{Registry: actions.Registry()})
	if err != nil {
		return fmt.Errorf("the built-in programs: %v", err)
	}
	section, file := builtin.Sections[actions.ProgramsKey], ""
	list := actions.Programs(section)
	m.say("\nBe the scheduler: you choose which thread takes each step, and win by breaking the program.")
	for i, p := range list {
		m.say("%d. %s: %s", i+1, p.Name, p.Description)
	}
	answer, err := m.prompt(ctx, "Select a program, or type the path of a scenario with programs (such as scenarios/labs/book/smokers.yaml): ")
	if err != nil {
		return err
	}
	answer = strings.TrimSpace(answer)
	name := ""
	if n, err := strconv.Atoi(answer); err == nil {
		if n < 1 || n > len(list) {
			m.say("No program %d: type a number from 1 to %d, or a path.", n, len(list))
			return nil
		}
		name = list[n-1].Name
		m.showProgram(name)
	} else if answer != "" {
		if section, name, err = m.labProgram(ctx, answer); err != nil || name == "" {
			return err
		}
		file = answer
	}
	if name == "" {
		m.say("No program chosen: type a number from 1 to %d, or a path.", len(list))
		return nil
	}
	term := actions.NewTerminalLines(m.nextLine, m.out, m.echo)
	sched, err := term.PlayProgram(ctx, section, name, file)
	if err != nil {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		m.say("Could not play %s: %v", name, err)
		return nil
	}
	if text, whole := actions.PrintableSchedule(sched); file == "" && whole {
		m.say("(Replay it from a scenario holding the program, with pmrun run FILE --replay %s.)", text)
	} else if file == "" {
		m.say("(Its schedule is %d bytes, too long to print: play it from a scenario's program step, whose result and log keep it whole.)", len(sched))
	}
	return nil
}

// labProgram loads a scenario file and asks which of its programs to play.
func (m *menu) labProgram(ctx context.Context, path string) (section any, name string, err error) {
	// As 'pmrun run' and 'check' read one: up to the same cap, and
	// without blocking on a FIFO.
	max, err := lang.MaxSize()
	if err != nil {
		m.say("Cannot read %s: %v", path, err)
		return nil, "", nil
	}
	data, err := lang.ReadScenario(ctx, path, max)
	if err != nil {
		if ctx.Err() != nil {
			return nil, "", context.Cause(ctx)
		}
		m.say("Cannot read %s: %v", path, err)
		return nil, "", nil
	}
	sc, err := lang.Parse(path, data, lang.LoadOptions{Registry: actions.Registry()})
	if err != nil {
		m.say("%s has mistakes (pmrun check %s shows them):\n%v", path, path, err)
		return nil, "", nil
	}
	section = sc.Sections[actions.ProgramsKey]
	list := actions.Programs(section)
	switch len(list) {
	case 0:
		m.say("%s has no programs: section.", path)
		return nil, "", nil
	case 1:
		return section, list[0].Name, nil
	}
	for i, p := range list {
		line := fmt.Sprintf("%d. %s (line %d)", i+1, p.Name, p.Line)
		if p.Description != "" {
			line += ": " + p.Description
		}
		m.say("%s", contract.Escape(line)) // the file's text: a terminal must not act on it
	}
	answer, err := m.prompt(ctx, "Select a program: ")
	if err != nil {
		return nil, "", err
	}
	n, err := strconv.Atoi(strings.TrimSpace(answer))
	if err != nil || n < 1 || n > len(list) {
		m.say("No program %q: type a number from 1 to %d.", strings.TrimSpace(answer), len(list))
		return nil, "", nil
	}
	return section, list[n-1].Name, nil
}

// showProgram prints a built-in program's text with its line numbers,
// which the game's steps refer to.
func (m *menu) showProgram(name string) {
	lines := strings.Split(string(menuPrograms), "\n")
	start := -1
	for i, l := range lines {
		if strings.TrimSpace(l) == name+":" && strings.HasPrefix(l, "  ") && !strings.HasPrefix(l, "   ") {
			start = i
		} else if start >= 0 && (strings.HasPrefix(l, "  ") && !strings.HasPrefix(l, "   ") || !strings.HasPrefix(l, " ")) {
			break
		}
		if start >= 0 {
			m.say("%3d %s", i+1, l)
		}
	}
}

// nextLine is the game's input: the menu's next line, io.EOF at its end.
func (m *menu) nextLine(ctx context.Context) (string, error) {
	select {
	case line, ok := <-m.in.lines:
		if !ok {
			if err := m.in.err; err != nil && !errors.Is(err, io.EOF) {
				return "", err
			}
			return "", io.EOF
		}
		return line, nil
	case <-ctx.Done():
		return "", context.Cause(ctx)
	}
}
