package lang

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
	"golang.org/x/sys/unix"

	"github.com/pmrun/pmrun/actions/contract"
)

// LoadOptions change how a scenario is loaded.
type LoadOptions struct {
	// Registry holds the actions and sections the scenario is checked
	// against (the CLI's is actions.Registry(); a test may make one with
	// only the actions it needs). It must be set.
	Registry *contract.Registry
	// Vars override the scenario's vars (--var NAME=VALUE): each VALUE is
	// the text after =, read for the type of the var's value in the file
	// (see [ParseVar]). A name the file does not declare is left out of
	// it; [UndeclaredVar] tells a command line about names no file knows.
	Vars map[string]string
	// MaxSize caps the size of a scenario file, in bytes; 0 means
	// [DefaultMaxSize].
	MaxSize int
	// Student is a student's ID: the vars the lab's course: varies take
	// the values this ID picks (see [Variant.Pick]); --var still
	// overrides them.
	Student string
	// Submission is a student's file to load into the lab: its programs
	// take the place of the lab's programs of the same names, which the
	// lab's course: names as the student's. Its mistakes are errors in
	// that file.
	Submission *Submission
	// checkOnly keeps no compiled expression once it has been checked:
	// see [CheckFile].
	checkOnly bool
}

// DefaultMaxSize is the largest scenario file pmrun reads: a file is
// read whole and its every step kept in memory, so a cap keeps a mistaken
// path (/dev/zero, a log) from exhausting memory. [MaxSizeEnv] changes it.
const DefaultMaxSize = 16 << 20

// MaxSizeEnv is the environment variable that overrides [DefaultMaxSize]:
// a size such as 64MiB or a number of bytes.
const MaxSizeEnv = "PMRUN_MAX_SCENARIO_SIZE"

// MaxSize returns the cap on a scenario file's size: [MaxSizeEnv] if it is
// set, else [DefaultMaxSize].
func MaxSize() (int, error) {
	text := os.Getenv(MaxSizeEnv)
	if text == "" {
		return DefaultMaxSize, nil
	}
	n, err := toSize(text)
	if err != nil || n.(int) < 1 {
		return 0, fmt.Errorf("%s=%s: want a size such as 64MiB", MaxSizeEnv, text)
	}
	return n.(int), nil
}

// ParseVar parses a --var NAME=VALUE argument into its name and its
// value's text; the loader reads the text for the type of the var in the
// file (500 for a number, true for a boolean, any text for a string).
func ParseVar(arg string) (name, value string, err error) {
	name, value, ok := strings.Cut(arg, "=")
	if !ok || !idPattern.MatchString(name) {
		return "", "", fmt.Errorf("--var %q: want NAME=VALUE with NAME like items or max_wait", arg)
	}
	return name, value, nil
}

// UndeclaredVar returns an error for a --var name that no scenario
// declares (declared lists the names they do), with the nearest declared
// name as a suggestion; nil if one declares it.
func UndeclaredVar(name string, declared []string) error {
	if slices.Contains(declared, name) {
		return nil
	}
	if len(declared) == 0 {
		return fmt.Errorf("--var %s: the scenario declares no vars: add %s to its vars to set it", name, name)
	}
	return fmt.Errorf("--var %s: no scenario declares a var %q%s", name, name, contract.DidYouMean(name, slices.Sorted(slices.Values(declared))))
}

// LoadFile reads and loads a scenario file (see [ReadScenario]). A
// *LoadErrors error lists every problem found.
func LoadFile(path string, opt LoadOptions) (*Scenario, error) {
	data, err := ReadScenario(context.Background(), path, opt.MaxSize)
	if err != nil {
		return nil, LoadErrors{{Pos: Pos{File: path, Line: 1, Col: 1}, Msg: errMessage(err)}}
	}
	return Parse(path, data, opt)
}

// Checked is what [CheckFile] tells of a valid scenario file.
type Checked struct {
	File  string
	Name  string
	Steps int      // steps and finally steps
	Vars  []string // the names of the vars it declares
}

// CheckFile reads and checks a scenario file as [LoadFile] does, every
// expression compiled, but keeps nothing it would need to run it: checking
// a long file then takes little more memory than its steps.
func CheckFile(path string, opt LoadOptions) (*Checked, error) {
	opt.checkOnly = true
	sc, err := LoadFile(path, opt)
	if err != nil {
		return nil, err
	}
	return &Checked{File: sc.File, Name: sc.Name, Steps: len(sc.Steps) + len(sc.Finally), Vars: keys(sc.Vars)}, nil
}

// ReadScenario reads a scenario file of at most max bytes (0:
// [DefaultMaxSize]), never more than max+1 of it: /dev/zero or a growing
// log stops at the cap. It opens the file without blocking, so that a
// FIFO that nothing writes into is an error at once rather than a wait in
// open(2) that no signal ends; a FIFO or device whose writer keeps it
// open without writing is read until ctx ends, and the error is then
// ctx's cause.
func ReadScenario(ctx context.Context, path string, max int) ([]byte, error) {
	if max <= 0 {
		max = DefaultMaxSize
	}
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NONBLOCK|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := 0
	if fi.Mode().IsRegular() {
		if fi.Size() > int64(max) {
			return nil, tooLarge(max)
		}
		size = int(fi.Size())
	} else {
		// A pollable file (a FIFO, a pipe) waits in Go's poller, which a
		// deadline interrupts; a read of another blocks no longer than
		// the device does.
		defer context.AfterFunc(ctx, func() { _ = f.SetReadDeadline(time.Now()) })()
	}
	buf := bytes.NewBuffer(make([]byte, 0, size+bytes.MinRead)) // ReadFrom wants MinRead free
	if _, err := buf.ReadFrom(io.LimitReader(f, int64(max)+1)); err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) && ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		return nil, err
	}
	if buf.Len() > max {
		return nil, tooLarge(max)
	}
	if buf.Len() == 0 && fi.Mode()&os.ModeNamedPipe != 0 {
		return nil, errors.New("it is a FIFO and nothing was written into it: start its writer first")
	}
	return buf.Bytes(), nil
}

func tooLarge(max int) error {
	return fmt.Errorf("the file is larger than %s, the most pmrun reads as a scenario (set %s, e.g. to 64MiB, to read more)", sizeText(max), MaxSizeEnv)
}

// sizeText writes n bytes in the largest binary unit that divides it.
func sizeText(n int) string {
	for _, u := range []struct {
		suffix string
		mult   int
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n%u.mult == 0 {
			return strconv.Itoa(n/u.mult) + " " + u.suffix
		}
	}
	return strconv.Itoa(n) + " bytes"
}

func errMessage(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Op + ": " + pe.Err.Error()
	}
	return err.Error()
}

// Parse loads a scenario from data; file names it in errors.
func Parse(file string, data []byte, opt LoadOptions) (*Scenario, error) {
	if opt.Registry == nil {
		panic("lang: LoadOptions.Registry is nil: load against a registry of actions, such as actions.Registry()")
	}
	l := &loader{
		reg:   opt.Registry,
		file:  file,
		data:  data,
		opt:   opt,
		sc:    &Scenario{File: file, Timeout: DefaultTimeout},
		ids:   map[string]Pos{},
		byID:  map[string]*Step{},
		decls: map[contract.RefKind]map[string]Pos{},
		names: &exprNames{steps: map[string]bool{}, vars: map[string]bool{}, checkOnly: opt.checkOnly},
	}
	l.compiles.holdBack = opt.checkOnly
	l.load()
	if len(l.errs) > 0 {
		return nil, l.errs.sorted()
	}
	return l.sc, nil
}

// idPattern is what ids, var names and channel names look like.
var idPattern = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

var scenarioKeys = []string{"name", "description", "vars", "timeout", "seed", "channels", "course", "steps", "finally"}

var channelKeys = []string{"kind", "framing", "max_message"}

// defaultMaxMessage is a channel's max_message unless it sets one, as the
// channel package has it.
const defaultMaxMessage = 16 << 20

// loader turns a YAML document into a Scenario, collecting every error.
type loader struct {
	reg   *contract.Registry
	file  string
	data  []byte
	lines []int // where each line of data starts; see lineText
	opt   LoadOptions
	sc    *Scenario
	errs  LoadErrors

	ids      map[string]Pos                      // step ids
	byID     map[string]*Step                    // the step of each id
	varDecls map[string]*yaml.Node               // each var's value in the file
	decls    map[contract.RefKind]map[string]Pos // declared objects
	dynamic  map[contract.RefKind]bool           // some object of the kind has a run-time name
	names    *exprNames
	varScope *Scope // the vars alone, for the values known at load
	// compiles compiles expressions, which needs every step id and var
	// (found before the steps are decoded) and runs beside the decoding;
	// later checks references, which needs every declaration and waits for
	// the end (see load_jobs.go). Each job returns its errors and touches
	// only its own step or value.
	compiles compileQueue
	later    []func() []*Error
	// templateLines are the lines of a section's ${{ }} that could not be
	// filled in (see sectionTemplates).
	templateLines map[int]bool
}

func (l *loader) pos(n *yaml.Node) Pos { return Pos{File: l.file, Line: n.Line, Col: n.Column} }

func (l *loader) errorf(n *yaml.Node, format string, args ...any) {
	l.errs = append(l.errs, &Error{Pos: l.pos(n), Msg: fmt.Sprintf(format, args...)})
}

func (l *loader) load() {
	dec := yaml.NewDecoder(bytes.NewReader(l.data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil && err != io.EOF {
		l.syntaxError(err)
		return
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		l.errs = append(l.errs, &Error{Pos: Pos{File: l.file, Line: 1, Col: 1}, Msg: "scenario is empty: it needs at least name and steps"})
		return
	}
	// yaml.v3 reads the first document of a stream and would ignore the
	// rest: a second one is most likely a scenario pasted after another.
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == io.EOF:
	case err != nil:
		l.syntaxError(err)
	default:
		l.errorf(&next, "a second YAML document starts here, but a scenario file holds one: remove this --- or put each scenario in a file of its own")
	}
	root := deref(doc.Content[0])
	if root.Kind != yaml.MappingNode {
		l.errorf(root, "a scenario is a mapping with name and steps, not a %s", kindName(root))
		return
	}
	var stepsNode, finallyNode, courseNode *yaml.Node
	type sectionNode struct {
		sec *contract.Section
		v   *yaml.Node
	}
	var sections []sectionNode
	known := scenarioKeys
	for _, sec := range l.reg.Sections() {
		known = append(known[:len(known):len(known)], sec.Key)
	}
	l.mapping(root, "scenario", known, func(key string, k, v *yaml.Node) {
		if sec, ok := l.reg.LookupSection(key); ok {
			// Loaded once the vars are known: its ${{ vars.X }} are
			// filled in first.
			sections = append(sections, sectionNode{sec, v})
			return
		}
		switch key {
		case "name":
			l.sc.Name = l.str(v, "name")
		case "description":
			l.sc.Description = l.str(v, "description")
		case "vars":
			l.vars(v)
		case "timeout":
			if d, ok := l.duration(v, "timeout"); ok {
				if d == 0 {
					l.errorf(v, "timeout must be more than 0")
				} else {
					l.sc.Timeout = d
				}
			}
		case "seed":
			var n uint64
			if v.Kind != yaml.ScalarNode || v.Tag != "!!int" || v.Decode(&n) != nil {
				l.errorf(v, "seed must be a whole number from 0 to %d, not %s", uint64(1<<64-1), quote(v))
			} else {
				l.sc.Seed = &n
			}
		case "channels":
			l.channels(v)
		case "course":
			courseNode = v
		case "steps":
			stepsNode = v
		case "finally":
			finallyNode = v
		}
	})
	if l.sc.Name == "" {
		l.errorf(root, "scenario has no name: add name: at the top")
	}
	l.course(courseNode)
	l.overrideVars()
	l.varScope = &Scope{env: map[string]any{"vars": l.sc.Vars}}
	for _, s := range sections {
		l.sectionTemplates(s.v, map[*yaml.Node]bool{})
		l.section(s.sec, s.v)
	}
	if l.opt.Submission != nil {
		l.submission()
	}
	l.collectIDs(stepsNode, finallyNode)
	if stepsNode == nil {
		l.errorf(root, "scenario has no steps: add a steps: list")
	} else {
		l.sc.Steps = l.steps(stepsNode, false, 0)
	}
	if finallyNode != nil {
		l.sc.Finally = l.steps(finallyNode, true, len(l.sc.Steps))
	}
	l.errs = append(l.errs, l.compiles.finish()...)
	l.checkWaits()
	l.runLater()
}

func (l *loader) str(v *yaml.Node, what string) string {
	if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
		l.errorf(v, "%s must be text, not %s", what, kindName(v))
		return ""
	}
	return v.Value
}

func (l *loader) duration(v *yaml.Node, what string) (time.Duration, bool) {
	lit, ok := l.literal(v)
	if !ok {
		l.errorf(v, "%s must be a duration such as 30s, not %s", what, kindName(v))
		return 0, false
	}
	d, err := toDuration(lit)
	if err != nil {
		l.errorf(v, "%s: %v", what, err)
		return 0, false
	}
	return d.(time.Duration), true
}

// literal decodes a scalar node into its YAML-typed Go value.
func (l *loader) literal(v *yaml.Node) (any, bool) {
	if v.Kind != yaml.ScalarNode {
		return nil, false
	}
	// The common scalars directly: Node.Decode builds a decoder each call,
	// a cost a long file pays for every parameter.
	switch v.Tag {
	case "!!str":
		return v.Value, true
	case "!!bool":
		switch v.Value {
		case "true":
			return true, true
		case "false":
			return false, true
		}
	case "!!int":
		// Only a number written plainly: YAML reads 010 as octal, 1_000
		// without its _, which Decode below does.
		if n, err := strconv.Atoi(v.Value); err == nil && strconv.Itoa(n) == v.Value {
			return n, true
		}
	}
	var x any
	if err := v.Decode(&x); err != nil {
		return v.Value, true
	}
	return x, true
}

func (l *loader) channels(v *yaml.Node) {
	if v.Kind != yaml.MappingNode {
		l.errorf(v, "channels must be a mapping of channel names to settings")
		return
	}
	l.declare(contract.ChannelRef, "default", Pos{})
	l.mapping(v, "channels", nil, func(name string, k, val *yaml.Node) {
		if !idPattern.MatchString(name) {
			l.errorf(k, "channel name %q must match [a-z_][a-z0-9_]*", name)
			return
		}
		if name == "default" {
			l.errorf(k, "channel default always exists; give this one another name")
			return
		}
		ch := &Channel{Pos: l.pos(k), Name: name, Kind: "pipe", Framing: "framed", MaxMessage: defaultMaxMessage}
		if val.Kind == yaml.MappingNode {
			l.mapping(val, "channel "+name, channelKeys, func(key string, k2, v2 *yaml.Node) {
				switch key {
				case "kind":
					ch.Kind = l.enum(v2, "kind", "pipe", "fifo", "socket")
				case "framing":
					ch.Framing = l.enum(v2, "framing", "framed", "lines")
				case "max_message":
					lit, _ := l.literal(v2)
					if n, err := toSize(lit); err != nil {
						l.errorf(v2, "max_message: %v", err)
					} else if n.(int) < 1 || n.(int) > 1<<30 {
						l.errorf(v2, "max_message must be from 1 byte to 1GiB")
					} else {
						ch.MaxMessage = n.(int)
					}
				}
			})
		} else if !(val.Kind == yaml.ScalarNode && val.Tag == "!!null") {
			l.errorf(val, "channel %s takes a mapping of settings (kind, framing, max_message), such as {}", name)
		}
		l.declare(contract.ChannelRef, name, ch.Pos)
		l.sc.Channels = append(l.sc.Channels, ch)
	})
}

// section loads a top-level section that an action owns (see
// [contract.Section]): its errors join the file's, its names are declared
// for references, and its value goes to the steps.
func (l *loader) section(sec *contract.Section, v *yaml.Node) {
	value, names, errs := sec.Load(v)
	for _, e := range errs {
		if !l.templateLines[e.Line] {
			l.errs = append(l.errs, &Error{Pos: Pos{File: l.file, Line: e.Line, Col: e.Col}, Msg: e.Msg})
		}
	}
	if sec.Declares != contract.NoRef {
		for _, n := range names {
			l.declare(sec.Declares, n.Name, Pos{File: l.file, Line: n.Line, Col: n.Col})
		}
	}
	if value != nil {
		if l.sc.Sections == nil {
			l.sc.Sections = map[string]any{}
		}
		l.sc.Sections[sec.Key] = value
	}
}

func (l *loader) enum(v *yaml.Node, what string, allowed ...string) string {
	if v.Kind != yaml.ScalarNode || !contains(allowed, v.Value) {
		l.errorf(v, "%s must be one of %s, not %s%s", what, strings.Join(allowed, ", "), quote(v), contract.DidYouMean(v.Value, allowed))
		return allowed[0]
	}
	return v.Value
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
