package native

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	pl "github.com/pmrun/pmrun/actions/internal/preload"
	"github.com/pmrun/pmrun/actions/internal/schedule"
)

// Program is a program pmrun runs under control: how to start it and the
// binary that names its schedules.
type Program struct {
	Config
	// Name and Hash are the schedule's: the binary's file name and a
	// hash of its bytes, so that a rebuilt binary refuses an old schedule.
	Name, Hash string
	// Points says whether the program marks points of its own
	// (pmrun_point, pmrun.h).
	Points bool
}

// PassNote is what a search that found nothing must add, when the
// program marks no point of its own: races on plain memory were not
// searched.
func (p *Program) PassNote() string {
	if p.Points {
		return ""
	}
	return "no run failed, but only the synchronization calls were searched: a race on plain memory between two of them is outside pmrun's control " +
		"unless marked with pmrun_point (pmrun.h: pmrun preload --header); ThreadSanitizer (cc -fsanitize=thread) finds such races"
}

// Prepare checks the program's binary (see [Check]), builds the library
// and returns what a search or a replay needs.
func Prepare(ctx context.Context, cfg Config) (*Program, error) {
	if len(cfg.Argv) == 0 {
		return nil, fmt.Errorf("native: no program to run")
	}
	path, err := Resolve(cfg.Argv[0], cfg.Dir)
	if err != nil {
		return nil, err
	}
	if err := Check(path); err != nil {
		return nil, err
	}
	if cfg.Library == "" {
		if cfg.Library, err = pl.Library(ctx); err != nil {
			return nil, err
		}
	}
	bin := loadBinary(path)
	if bin == nil {
		return nil, fmt.Errorf("native: cannot read %s", path)
	}
	name := strings.Map(func(c rune) rune {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-' {
			return c
		}
		return '_'
	}, filepath.Base(path))
	return &Program{Config: cfg, Name: name, Hash: bin.hash, Points: bin.points}, nil
}

// CheckSchedule says whether sched was made on this binary: another
// binary's is a [schedule.MismatchError], this one's before a rebuild a
// [RebuiltError] (both match schedule.ErrMismatch).
func (p *Program) CheckSchedule(sched schedule.Schedule) error {
	if sched.Program != p.Name {
		return &schedule.MismatchError{Schedule: sched, Program: p.Name, Hash: p.Hash}
	}
	if sched.Hash != p.Hash {
		return &RebuiltError{Name: p.Name, Was: sched.Hash, Now: p.Hash}
	}
	return nil
}

// RebuiltError is a schedule replayed on a binary rebuilt since.
type RebuiltError struct{ Name, Was, Now string }

func (e *RebuiltError) Error() string {
	return fmt.Sprintf("%s was rebuilt since the schedule was made (its hash was %s, now %s): the schedule would not replay the same interleaving; find the failure again and replay the new schedule", e.Name, e.Was, e.Now)
}

// Is makes errors.Is(err, schedule.ErrMismatch) true.
func (e *RebuiltError) Is(target error) bool { return target == schedule.ErrMismatch }
