package lang

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/pmrun/pmrun/actions"
)

// LoadOptions change how a scenario is loaded.
type LoadOptions struct {
	// Vars override the scenario's vars (--var NAME=VALUE).
	Vars map[string]any
}

// ParseVar parses a --var NAME=VALUE argument; VALUE is read as a YAML
// scalar, so 500 is an int and true a bool.
func ParseVar(arg string) (string, any, error) {
	name, raw, ok := strings.Cut(arg, "=")
	if !ok || !idPattern.MatchString(name) {
		return "", nil, fmt.Errorf("--var %q: want NAME=VALUE with NAME like items or max_wait", arg)
	}
	var v any
	if err := yaml.Unmarshal([]byte(raw), &v); err != nil {
		v = raw
	}
	switch v.(type) {
	case map[string]any, []any:
		v = raw
	}
	return name, v, nil
}

// LoadFile reads and loads a scenario file. A *LoadErrors error lists every
// problem found.
func LoadFile(path string, opt LoadOptions) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, LoadErrors{{Pos: Pos{File: path, Line: 1, Col: 1}, Msg: errMessage(err)}}
	}
	return Parse(path, data, opt)
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
	l := &loader{
		file:  file,
		lines: strings.Split(string(data), "\n"),
		opt:   opt,
		sc:    &Scenario{File: file, Timeout: DefaultTimeout},
		ids:   map[string]Pos{},
		decls: map[actions.RefKind]map[string]Pos{},
		names: &exprNames{steps: map[string]bool{}, vars: map[string]bool{}},
	}
	l.load(data)
	if len(l.errs) > 0 {
		return nil, l.errs.sorted()
	}
	return l.sc, nil
}

// idPattern is what ids, var names and channel names look like.
var idPattern = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

var scenarioKeys = []string{"name", "description", "vars", "timeout", "seed", "channels", "steps", "finally"}

var channelKeys = []string{"kind", "framing", "max_message"}

// loader turns a YAML document into a Scenario, collecting every error.
type loader struct {
	file  string
	lines []string
	opt   LoadOptions
	sc    *Scenario
	errs  LoadErrors

	ids     map[string]Pos                     // step ids
	decls   map[actions.RefKind]map[string]Pos // declared objects
	dynamic map[actions.RefKind]bool           // some object of the kind has a run-time name
	names   *exprNames
	// later is the work that needs every id and declaration: compiling
	// expressions, checking references. Each job returns its errors and
	// touches only its own step or value, so runLater runs them in
	// parallel.
	later []func() []*Error
}

func (l *loader) pos(n *yaml.Node) Pos { return Pos{File: l.file, Line: n.Line, Col: n.Column} }

func (l *loader) errorf(n *yaml.Node, format string, args ...any) {
	l.errs = append(l.errs, &Error{Pos: l.pos(n), Msg: fmt.Sprintf(format, args...)})
}

func (l *loader) load(data []byte) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		l.syntaxError(err)
		return
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		l.errs = append(l.errs, &Error{Pos: Pos{File: l.file, Line: 1, Col: 1}, Msg: "scenario is empty: it needs at least name and steps"})
		return
	}
	root := deref(doc.Content[0])
	if root.Kind != yaml.MappingNode {
		l.errorf(root, "a scenario is a mapping with name and steps, not a %s", kindName(root))
		return
	}
	var stepsNode, finallyNode *yaml.Node
	known := scenarioKeys
	for _, sec := range actions.Sections() {
		known = append(known[:len(known):len(known)], sec.Key)
	}
	l.mapping(root, "scenario", known, func(key string, k, v *yaml.Node) {
		if sec, ok := actions.LookupSection(key); ok {
			l.section(sec, v)
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
		case "steps":
			stepsNode = v
		case "finally":
			finallyNode = v
		}
	})
	if l.sc.Name == "" {
		l.errorf(root, "scenario has no name: add name: at the top")
	}
	for k, v := range l.opt.Vars {
		if l.sc.Vars == nil {
			l.sc.Vars = map[string]any{}
		}
		l.sc.Vars[k] = v
		l.names.vars[k] = true
	}
	if stepsNode == nil {
		l.errorf(root, "scenario has no steps: add a steps: list")
	} else {
		l.sc.Steps = l.steps(stepsNode, false, 0)
	}
	if finallyNode != nil {
		l.sc.Finally = l.steps(finallyNode, true, len(l.sc.Steps))
	}
	l.runLater()
}

// laterInParallel is how many jobs make runLater worth its goroutines.
const laterInParallel = 256

// runLater runs the later jobs, on every CPU for a long file (compiling
// expressions is most of loading), and collects their errors in the jobs'
// order.
func (l *loader) runLater() {
	errs := make([][]*Error, len(l.later))
	workers := min(runtime.GOMAXPROCS(0), 8)
	if len(l.later) < laterInParallel || workers < 2 {
		workers = 1
	}
	// Workers take runs of neighbouring jobs, so that what one step's jobs
	// allocate (its compiled expressions) lies together in memory, as it
	// would had one goroutine loaded the file: running the steps in order
	// then walks memory in order.
	const run = 64
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for first := int(next.Add(run) - run); first < len(l.later); first = int(next.Add(run) - run) {
				for i := first; i < min(first+run, len(l.later)); i++ {
					errs[i] = l.later[i]()
				}
			}
		})
	}
	wg.Wait()
	for _, e := range errs {
		l.errs = append(l.errs, e...)
	}
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
	var x any
	if err := v.Decode(&x); err != nil {
		return v.Value, true
	}
	return x, true
}

func (l *loader) vars(v *yaml.Node) {
	if v.Kind != yaml.MappingNode {
		l.errorf(v, "vars must be a mapping of names to values")
		return
	}
	l.sc.Vars = map[string]any{}
	l.mapping(v, "vars", nil, func(key string, k, val *yaml.Node) {
		if !idPattern.MatchString(key) {
			l.errorf(k, "var name %q must match [a-z_][a-z0-9_]*", key)
			return
		}
		var x any
		if err := val.Decode(&x); err != nil {
			l.errorf(val, "var %s: %v", key, err)
			return
		}
		l.sc.Vars[key] = x
		l.names.vars[key] = true
	})
}

func (l *loader) channels(v *yaml.Node) {
	if v.Kind != yaml.MappingNode {
		l.errorf(v, "channels must be a mapping of channel names to settings")
		return
	}
	l.declare(actions.ChannelRef, "default", Pos{})
	l.mapping(v, "channels", nil, func(name string, k, val *yaml.Node) {
		if !idPattern.MatchString(name) {
			l.errorf(k, "channel name %q must match [a-z_][a-z0-9_]*", name)
			return
		}
		if name == "default" {
			l.errorf(k, "channel default always exists; give this one another name")
			return
		}
		ch := &Channel{Pos: l.pos(k), Name: name, Kind: "pipe", Framing: "framed", MaxMessage: 16 << 20}
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
		l.declare(actions.ChannelRef, name, ch.Pos)
		l.sc.Channels = append(l.sc.Channels, ch)
	})
}

// section loads a top-level section that an action owns (see
// [actions.Section]): its errors join the file's, its names are declared
// for references, and its value goes to the steps.
func (l *loader) section(sec *actions.Section, v *yaml.Node) {
	value, names, errs := sec.Load(v)
	for _, e := range errs {
		l.errs = append(l.errs, &Error{Pos: Pos{File: l.file, Line: e.Line, Col: e.Col}, Msg: e.Msg})
	}
	if sec.Declares != actions.NoRef {
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
		l.errorf(v, "%s must be one of %s, not %s%s", what, strings.Join(allowed, ", "), quote(v), DidYouMean(v.Value, allowed))
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
