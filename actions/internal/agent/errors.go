package agent

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// Errors names the sentinel errors that keep their identity across the
// control connection, each by a code. A handler's error travels as its
// text and the codes of every sentinel it matches ([errors.Is]); the
// caller's [*RemoteError] then matches the same sentinels, so that
// errors.Is(err, context.Canceled) or errors.Is(err, sem.ErrOwnerDead)
// works on the runner's side as it did in the agent. Both sides must use
// the same Errors. context.Canceled and context.DeadlineExceeded are always
// known, as "canceled" and "deadline_exceeded".
type Errors map[string]error

// builtin are the codes every connection knows.
var builtin = Errors{
	"canceled":          context.Canceled,
	"deadline_exceeded": context.DeadlineExceeded,
}

// codes returns, sorted, the codes of the sentinels err matches.
func (k Errors) codes(err error) []string {
	var out []string
	for _, table := range []Errors{builtin, k} {
		for code, sentinel := range table {
			if errors.Is(err, sentinel) && !slices.Contains(out, code) {
				out = append(out, code)
			}
		}
	}
	slices.Sort(out)
	return out
}

// sentinels returns the errors codes name; a code neither side knows is
// left out (it still shows in [RemoteError.Codes]).
func (k Errors) sentinels(codes []string) []error {
	var out []error
	for _, code := range codes {
		if e, ok := builtin[code]; ok {
			out = append(out, e)
		} else if e, ok := k[code]; ok {
			out = append(out, e)
		}
	}
	return out
}

// RemoteError is an error a handler in the agent returned: its text, and
// the sentinels it matched there, which it matches here too.
type RemoteError struct {
	Op      string
	Message string
	// Codes name the sentinels the handler's error matched (see [Errors]).
	Codes []string
	kinds []error
}

func (e *RemoteError) Error() string { return fmt.Sprintf("agent %s: %s", e.Op, e.Message) }

// Unwrap returns the sentinels of Codes, so that [errors.Is] matches them.
func (e *RemoteError) Unwrap() []error { return e.kinds }
