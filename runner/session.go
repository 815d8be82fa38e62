package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/pmrun/pmrun/actions"
	"github.com/pmrun/pmrun/actions/contract"
	"github.com/pmrun/pmrun/runner/lang"
)

// SessionConfig names a [Session].
type SessionConfig struct {
	// Name is the scenario's name, in the log and in the recording.
	Name string
	// Description is the recording's description.
	Description string
	// File names the session in load errors and in the scenario_start
	// event; the default is Name.
	File string
	// Registry holds the actions the steps may use; nil: every action of
	// pmrun (actions.Registry).
	Registry *contract.Registry
	// Comment is written at the top of the recording, each line as a #
	// comment; the lines of steps in events and errors count it, so they
	// are the lines of the file a recording is saved in.
	Comment string
}

// Session is a scenario run that is written while it runs: a long-lived
// run that executes one step at a time, as an interactive front end (pmrun
// menu) asks for them. It owns one [actions.Host] and one expression scope
// for its whole life, so the processes, threads, agents and channels that
// a step creates are there for the steps after it, and steps can refer to
// the results of earlier ones (steps.ID, last).
//
// Each step is given as YAML text and goes through the same loader as a
// scenario file: the session keeps the steps so far as a scenario, appends
// the new one and loads the whole, so a step is checked, run and logged
// exactly as in a file (references to earlier steps, processes and threads
// included). What [Session.Scenario] returns is that scenario: a file that
// `pmrun check` accepts and `pmrun run` replays. Loading the whole again
// costs time in the length of the steps so far; so that a session with a
// large message in it stays quick, the earlier steps are loaded with their
// long one-line values (over [skeletonMin] bytes, other than ids and names)
// stood in for: they were checked when their step was loaded, and a later
// step can refer to an earlier one's id and names only.
//
// The session logs scenario_start when it starts and scenario_end when
// [Session.Close] has released everything it holds. A step that fails does
// not end the session; it is recorded with continue_on_error: true, so the
// replay goes on past it as the session did.
type Session struct {
	cfg  SessionConfig
	head []byte // the recording up to its steps: comment, name, description, seed

	mu     sync.Mutex // one step at a time
	x      *execution
	steps  []*recorded
	closed *lang.Outcome
}

// recorded is a step of the recording: its node, and its text as an entry
// of the steps list, in full and as loaded again for the steps after it.
type recorded struct {
	node           *yaml.Node
	text, skeleton []byte
}

// skeletonMin is the length from which a one-line value of an earlier step
// is not read again when a later step is loaded.
const skeletonMin = 1024

// NewSession starts a session: it creates the host's channels (the default
// one) and logs scenario_start. The caller must [Session.Close] it.
func NewSession(ctx context.Context, cfg SessionConfig, opt Options) (*Session, error) {
	if cfg.Name == "" {
		return nil, errors.New("session: a session needs a name")
	}
	if cfg.File == "" {
		cfg.File = cfg.Name
	}
	if cfg.Registry == nil {
		cfg.Registry = actions.Registry()
	}
	sc := &lang.Scenario{File: cfg.File, Name: cfg.Name, Description: cfg.Description}
	s := &Session{cfg: cfg, x: newExecution(sc, opt)}
	x := s.x
	head, err := s.header()
	if err != nil {
		return nil, err
	}
	s.head = head
	x.log.Info("scenario started", "event", contract.ScenarioStart, "file", cfg.File, "seed", x.out.Seed, "interactive", true)
	if opt.Reporter != nil {
		opt.Reporter.ScenarioStart(sc, x.out.Seed)
	}
	if err := x.host.Open(ctx); err != nil {
		err = fmt.Errorf("session: setting up the run: %w", err)
		x.fail(err)
		s.Close(ctx)
		return nil, err
	}
	return s, nil
}

// Seed is the session's seed; the recording carries it, so a replay
// repeats the session's random choices.
func (s *Session) Seed() uint64 { return s.x.out.Seed }

// Step loads one step from text (a YAML mapping, as one entry under
// steps:, such as `spawn: {name: s, cmd: [sleep, "30"]}`), checks it
// against the steps before it, runs it and records it.
//
// A step that cannot be loaded is neither run nor recorded: the error is
// a [lang.LoadErrors], placed in the recorded scenario with the step appended.
// Otherwise Step returns how the step ended, failed included; a failed
// step is recorded with continue_on_error: true. A step that ctx
// interrupted is not recorded. Steps cannot run in the background.
func (s *Session) Step(ctx context.Context, text string) (*lang.StepResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed != nil {
		return nil, errors.New("session: the session is closed")
	}
	if ctx.Err() != nil {
		return nil, context.Cause(ctx)
	}
	rec, sc, err := s.load(text)
	if err != nil {
		return nil, err
	}
	st := sc.Steps[len(sc.Steps)-1]
	if st.Background {
		return nil, lang.LoadErrors{{Pos: st.Pos, Msg: "a session runs one step at a time: background is not allowed here"}}
	}
	s.x.mu.Lock()
	s.x.sc, s.x.out.Scenario = sc, sc
	s.x.mu.Unlock()
	s.x.prepare(st)
	r := s.x.runStep(ctx, st, true)
	if ctx.Err() != nil {
		return r, nil
	}
	if r.Status == lang.StatusFailed && !st.ContinueOnError {
		setKey(rec.node, "continue_on_error", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"})
		if rec.text, err = encodeEntry(rec.node); err != nil {
			return r, err
		}
	}
	if err := rec.skeletonize(); err != nil {
		return r, err
	}
	s.steps = append(s.steps, rec)
	return r, nil
}

// load parses text as a step and loads the recorded scenario with it
// appended, returning the step and the loaded scenario.
func (s *Session) load(text string) (*recorded, *lang.Scenario, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		return nil, nil, lang.SyntaxErrors(s.cfg.File, err)
	}
	if len(doc.Content) == 0 || deref(doc.Content[0]).Kind != yaml.MappingNode {
		return nil, nil, lang.LoadErrors{{Pos: lang.Pos{File: s.cfg.File, Line: 1, Col: 1},
			Msg: "a step is a mapping with one action, such as {sleep: 1s}"}}
	}
	rec := &recorded{node: deref(doc.Content[0])}
	var err error
	if rec.text, err = encodeEntry(rec.node); err != nil {
		return nil, nil, err
	}
	entries := make([][]byte, 0, len(s.steps)+1)
	for _, r := range s.steps {
		entries = append(entries, r.skeleton)
	}
	sc, err := lang.Parse(s.cfg.File, s.document(append(entries, rec.text)), lang.LoadOptions{Registry: s.cfg.Registry})
	if err != nil {
		return nil, nil, err
	}
	if len(sc.Steps) != len(s.steps)+1 {
		return nil, nil, fmt.Errorf("session: loading the step gave %d steps, want %d", len(sc.Steps), len(s.steps)+1)
	}
	return rec, sc, nil
}

// Scenario returns the recorded scenario as a YAML file: the session's
// name, description and seed, and every step recorded so far.
func (s *Session) Scenario() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	entries := make([][]byte, len(s.steps))
	for i, r := range s.steps {
		entries[i] = r.text
	}
	return s.document(entries), nil
}

// Len is how many steps the recorded scenario holds.
func (s *Session) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.steps)
}

// header writes the recording's comment, name, description and seed.
func (s *Session) header() ([]byte, error) {
	str := func(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v} }
	root := &yaml.Node{Kind: yaml.MappingNode}
	root.Content = append(root.Content, str("name"), str(s.cfg.Name))
	if s.cfg.Description != "" {
		root.Content = append(root.Content, str("description"), str(s.cfg.Description))
	}
	root.Content = append(root.Content,
		str("seed"), &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatUint(s.x.out.Seed, 10)})
	var buf bytes.Buffer
	if s.cfg.Comment != "" {
		for _, line := range strings.Split(strings.TrimRight(s.cfg.Comment, "\n"), "\n") {
			buf.WriteString(strings.TrimRight("# "+line, " ") + "\n")
		}
	}
	if err := encode(&buf, root); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// document is the recording with the given entries of its steps list.
func (s *Session) document(entries [][]byte) []byte {
	n := len(s.head) + len("steps: []\n")
	for _, e := range entries {
		n += len(e)
	}
	b := make([]byte, 0, n)
	b = append(b, s.head...)
	if len(entries) == 0 {
		return append(b, "steps: []\n"...)
	}
	b = append(b, "steps:\n"...)
	for _, e := range entries {
		b = append(b, e...)
	}
	return b
}

func encode(buf *bytes.Buffer, n *yaml.Node) error {
	enc := yaml.NewEncoder(buf)
	enc.SetIndent(2)
	if err := enc.Encode(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{n}}); err != nil {
		return fmt.Errorf("session: writing the scenario: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("session: writing the scenario: %w", err)
	}
	return nil
}

// encodeEntry writes a step as an entry of the top-level steps list: the
// lines that follow "steps:", exactly as in a whole document.
func encodeEntry(step *yaml.Node) ([]byte, error) {
	key := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "steps"}
	var buf bytes.Buffer
	if err := encode(&buf, &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{
		key, {Kind: yaml.SequenceNode, Content: []*yaml.Node{step}},
	}}); err != nil {
		return nil, err
	}
	entry, ok := bytes.CutPrefix(buf.Bytes(), []byte("steps:\n"))
	if !ok {
		return nil, fmt.Errorf("session: writing a step gave %q", buf.Bytes())
	}
	return entry, nil
}

// skeletonize sets the step's text as loaded for later steps: its long
// one-line values other than ids and names stood in for by "true", which
// is valid text and a valid condition alike. The skeleton keeps every
// line where it is, so the lines of later steps do not move; when it
// would not, the step is loaded in full.
func (r *recorded) skeletonize() error {
	node, changed := skeleton(r.node)
	if !changed {
		r.skeleton = r.text
		return nil
	}
	text, err := encodeEntry(node)
	if err != nil {
		return err
	}
	if bytes.Count(text, []byte("\n")) != bytes.Count(r.text, []byte("\n")) {
		text = r.text
	}
	r.skeleton = text
	return nil
}

// skeleton returns a copy of n with its long one-line scalars, except the
// values of id and name keys, replaced by "true".
func skeleton(n *yaml.Node) (*yaml.Node, bool) {
	switch n.Kind {
	case yaml.ScalarNode:
		if len(n.Value) < skeletonMin || strings.Contains(n.Value, "\n") {
			return n, false
		}
		c := *n
		c.Value, c.Tag, c.Style = "true", "!!str", 0
		return &c, true
	case yaml.MappingNode, yaml.SequenceNode:
		c := *n
		c.Content = make([]*yaml.Node, len(n.Content))
		changed := false
		for i, e := range n.Content {
			c.Content[i] = e
			isKey := n.Kind == yaml.MappingNode && i%2 == 0
			if isKey || (n.Kind == yaml.MappingNode && (n.Content[i-1].Value == "id" || n.Content[i-1].Value == "name")) {
				continue
			}
			if sk, ok := skeleton(e); ok {
				c.Content[i], changed = sk, true
			}
		}
		return &c, changed
	}
	return n, false
}

// deref follows an alias to the node it names.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// setKey sets key in the mapping node m, replacing its value if present.
func setKey(m *yaml.Node, key string, v *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i+1] = v
			return
		}
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, v)
}

// Close ends the session: everything it started is released (threads
// cancelled and joined, processes terminated and reaped, channels closed),
// and scenario_end is logged. The session is interrupted if ctx was
// cancelled with cause [ErrInterrupted]; cleanup runs on Options.Hard, up
// to a minute. A failed step, recorded as allowed to fail, does not fail
// the session. Close returns the session's outcome; later calls return
// the same.
func (s *Session) Close(ctx context.Context) *lang.Outcome {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed != nil {
		return s.closed
	}
	endCtx, cancel := context.WithTimeout(s.x.hard, cleanupLimit)
	defer cancel()
	s.x.finish(ctx, endCtx)
	s.closed = s.x.out
	return s.closed
}
