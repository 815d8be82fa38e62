package lang

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"sort"
	"strconv"
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

var (
	idPattern      = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)
	yamlLineColumn = regexp.MustCompile(`^yaml: line (\d+)(?:, column (\d+))?: (.*)$`)
)

var yamlContextErrors = []string{
	"did not find expected <document start>",
	"did not find expected node content",
	"did not find expected key",
	"did not find expected '-' indicator",
	"did not find expected ',' or ']'",
	"did not find expected ',' or '}'",
}

var scenarioKeys = []string{"name", "description", "vars", "timeout", "seed", "channels", "steps", "finally"}
var stepKeys = []string{"id", "name", "if", "timeout", "retry", "continue_on_error", "background"}
var retryKeys = []string{"until", "attempts", "interval"}
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
	l.mapping(root, "scenario", scenarioKeys, func(key string, k, v *yaml.Node) {
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

// SyntaxErrors returns the errors of a YAML document that did not parse,
// each placed in file: yaml.v3's messages carry the line, and for some
// the line is where the unfinished construct started.
func SyntaxErrors(file string, err error) LoadErrors {
	l := &loader{file: file}
	l.syntaxError(err)
	return l.errs
}

func (l *loader) syntaxError(err error) {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		for _, m := range te.Errors {
			l.errs = append(l.errs, &Error{Pos: Pos{File: l.file, Line: 1, Col: 1}, Msg: m})
		}
		return
	}
	msg := err.Error()
	pos := Pos{File: l.file, Line: 1, Col: 1}
	if m := yamlLineColumn.FindStringSubmatch(msg); m != nil {
		pos.Line, _ = strconv.Atoi(m[1])
		if m[2] != "" {
			pos.Col, _ = strconv.Atoi(m[2])
		}
		msg = m[3]
		// For these parser errors yaml.v3 reports the 0-based line where
		// the unfinished construct starts; point at that line, 1-based.
		for _, prefix := range yamlContextErrors {
			if strings.HasPrefix(msg, prefix) {
				pos.Line++
				msg += " (in what starts on this line)"
				break
			}
		}
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	l.errs = append(l.errs, &Error{Pos: pos, Msg: "yaml: " + msg})
}

// mapping walks the pairs of a mapping node, reporting unknown and
// duplicate keys; each known key goes to f.
func (l *loader) mapping(n *yaml.Node, what string, known []string, f func(key string, k, v *yaml.Node)) {
	seen := map[string]Pos{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], deref(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			l.errorf(k, "%s keys must be plain names", what)
			continue
		}
		if first, dup := seen[k.Value]; dup {
			l.errorf(k, "duplicate key %q in %s (first at line %d)", k.Value, what, first.Line)
			continue
		}
		seen[k.Value] = l.pos(k)
		if known != nil && !contains(known, k.Value) {
			l.errorf(k, "unknown key %q in %s%s", k.Value, what, DidYouMean(k.Value, known))
			continue
		}
		f(k.Value, k, v)
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

func (l *loader) enum(v *yaml.Node, what string, allowed ...string) string {
	if v.Kind != yaml.ScalarNode || !contains(allowed, v.Value) {
		l.errorf(v, "%s must be one of %s, not %s%s", what, strings.Join(allowed, ", "), quote(v), DidYouMean(v.Value, allowed))
		return allowed[0]
	}
	return v.Value
}

func (l *loader) steps(n *yaml.Node, finally bool, first int) []*Step {
	section := "steps"
	if finally {
		section = "finally"
	}
	if n.Kind != yaml.SequenceNode {
		l.errorf(n, "%s must be a list of steps, each starting with -", section)
		return nil
	}
	out := make([]*Step, 0, len(n.Content))
	for i, sn := range n.Content {
		if s := l.step(deref(sn), first+i, finally); s != nil {
			out = append(out, s)
		}
	}
	return out
}

func (l *loader) step(n *yaml.Node, index int, finally bool) *Step {
	s := &Step{Pos: l.pos(n), Index: index, Finally: finally}
	if n.Kind != yaml.MappingNode {
		l.errorf(n, "a step is a mapping with one action, such as - sleep: 1s; got %s", kindName(n))
		return nil
	}
	if len(n.Content) > 0 {
		s.Pos = l.pos(n.Content[0])
	}
	var actionKey, actionVal *yaml.Node
	var extra []*yaml.Node
	unknown := false
	l.mapping(n, "step", nil, func(key string, k, v *yaml.Node) {
		switch key {
		case "id":
			s.ID = l.str(v, "id")
			if s.ID != "" && !idPattern.MatchString(s.ID) {
				l.errorf(v, "id %q must match [a-z_][a-z0-9_]* (lowercase letters, digits, _)", s.ID)
			} else if first, dup := l.ids[s.ID]; dup && s.ID != "" {
				l.errorf(v, "duplicate id %q (first at line %d)", s.ID, first.Line)
			} else if s.ID != "" {
				l.ids[s.ID] = l.pos(v)
				l.names.steps[s.ID] = true
			}
		case "name":
			s.Name = l.str(v, "name")
		case "if":
			l.condition(v, "if", func(p *Program) { s.If = p })
		case "timeout":
			if d, ok := l.duration(v, "timeout"); ok {
				if d == 0 {
					l.errorf(v, "timeout must be more than 0")
				}
				s.Timeout = d
			}
		case "retry":
			s.Retry = l.retry(v)
		case "continue_on_error":
			s.ContinueOnError = l.boolean(v, "continue_on_error")
		case "background":
			s.Background = l.boolean(v, "background")
			if s.Background && finally {
				l.errorf(v, "a finally step cannot run in the background")
			}
		default:
			if _, ok := actions.Lookup(key); ok {
				if actionKey != nil {
					extra = append(extra, k)
					return
				}
				actionKey, actionVal = k, v
				return
			}
			l.unknownStepKey(k)
			unknown = true
		}
	})
	for _, k := range extra {
		l.errorf(k, "a step runs one action, but this one also has %q (found %q first at line %d): split it into two steps", k.Value, actionKey.Value, actionKey.Line)
	}
	if actionKey == nil {
		if !unknown {
			l.errorf(n, "step has no action: add one such as log: or sleep: (pmrun actions lists them all)")
		}
		return nil
	}
	s.Action = actionKey.Value
	s.ActionPos = l.pos(actionKey)
	s.spec, _ = actions.Lookup(s.Action)
	l.params(s, actionKey, actionVal)
	return s
}

func (l *loader) unknownStepKey(k *yaml.Node) {
	names := actions.Names()
	if c := suggest(k.Value, names); c != "" {
		l.errorf(k, "unknown action %q, did you mean %q?", k.Value, c)
		return
	}
	if c := suggest(k.Value, stepKeys); c != "" {
		l.errorf(k, "unknown step key %q, did you mean %q?", k.Value, c)
		return
	}
	l.errorf(k, "unknown action %q (see pmrun actions for the list)", k.Value)
}

func (l *loader) boolean(v *yaml.Node, what string) bool {
	var b bool
	if v.Kind != yaml.ScalarNode || v.Tag != "!!bool" || v.Decode(&b) != nil {
		l.errorf(v, "%s must be true or false, not %s", what, quote(v))
	}
	return b
}

func (l *loader) retry(v *yaml.Node) *Retry {
	r := &Retry{Attempts: 3, Interval: 100 * time.Millisecond}
	if v.Kind != yaml.MappingNode {
		l.errorf(v, "retry must be a mapping: {until: EXPR, attempts: N, interval: 100ms}")
		return r
	}
	l.mapping(v, "retry", retryKeys, func(key string, k, val *yaml.Node) {
		switch key {
		case "until":
			l.condition(val, "until", func(p *Program) { r.Until = p })
		case "attempts":
			var n int
			if val.Kind != yaml.ScalarNode || val.Tag != "!!int" || val.Decode(&n) != nil || n < 1 || n > 1_000_000 {
				l.errorf(val, "attempts must be a whole number from 1 to 1000000, not %s", quote(val))
			} else {
				r.Attempts = n
			}
		case "interval":
			if d, ok := l.duration(val, "interval"); ok {
				r.Interval = d
			}
		}
	})
	return r
}

// condition compiles a boolean expression once every id is known.
func (l *loader) condition(v *yaml.Node, what string, set func(*Program)) {
	if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
		l.errorf(v, "%s must be an expression, not %s", what, kindName(v))
		return
	}
	src, pos := v.Value, l.contentPos(v)
	l.later = append(l.later, func() []*Error {
		p, errs := compile(src, pos, true, l.names)
		if p != nil {
			set(p)
		}
		return errs
	})
}

// contentPos is where a scalar's text starts in the file: after an opening
// quote, or on the first line of a block scalar.
func (l *loader) contentPos(v *yaml.Node) Pos {
	p := l.pos(v)
	switch v.Style {
	case yaml.DoubleQuotedStyle, yaml.SingleQuotedStyle:
		p.Col++
	case yaml.LiteralStyle, yaml.FoldedStyle:
		for line := v.Line; line < len(l.lines); line++ {
			text := l.lines[line]
			if strings.TrimSpace(text) != "" {
				p.Line = line + 1
				p.Col = len(text) - len(strings.TrimLeft(text, " ")) + 1
				break
			}
		}
	}
	return p
}

// params decodes an action's parameters: a mapping, or a scalar for the
// action's shorthand parameter.
func (l *loader) params(s *Step, key, v *yaml.Node) {
	spec := s.spec
	set := map[string]*yaml.Node{}
	switch {
	case v.Kind == yaml.MappingNode:
		var names []string
		for _, p := range spec.Params {
			names = append(names, p.Name)
		}
		l.mapping(v, spec.Name, names, func(name string, k, val *yaml.Node) {
			def, _ := spec.Param(name)
			set[name] = k
			if pv := l.value(def, val); pv != nil {
				s.params = append(s.params, &param{def: def, index: spec.ParamIndex(def.Name), pos: l.pos(val), v: pv})
			}
		})
	case v.Kind == yaml.ScalarNode && v.Tag == "!!null":
		// Only the required-parameter check below has something to say.
	case v.Kind == yaml.ScalarNode && spec.Shorthand != "":
		def, _ := spec.Param(spec.Shorthand)
		set[def.Name] = v
		if pv := l.value(def, v); pv != nil {
			s.params = append(s.params, &param{def: def, index: spec.ParamIndex(def.Name), pos: l.pos(v), v: pv})
		}
	case spec.Shorthand != "":
		l.errorf(v, "%s takes a mapping of parameters or a %s for %s, not %s", spec.Name, spec.Params[0].Kind, spec.Shorthand, kindName(v))
		return
	default:
		l.errorf(v, "%s takes a mapping of parameters, not %s", spec.Name, kindName(v))
		return
	}
	for _, p := range spec.Params {
		if p.Required && set[p.Name] == nil {
			l.errorf(key, "%s: missing required parameter %q (%s)", spec.Name, p.Name, p.Doc)
		}
	}
	for _, group := range spec.OneOf {
		var present []string
		for _, name := range group {
			if set[name] != nil {
				present = append(present, name)
			}
		}
		switch len(present) {
		case 0:
			l.errorf(key, "%s needs one of %s", spec.Name, strings.Join(group, ", "))
		case 1:
		default:
			l.errorf(set[present[1]], "%s takes only one of %s, but %s and %s are both set", spec.Name, strings.Join(group, ", "), present[0], present[1])
		}
	}
	l.later = append(l.later, func() []*Error {
		s.literal = s.literalArgs()
		return l.checkStep(s)
	})
	if spec.Declare != nil {
		for _, d := range spec.Declare(s.static()) {
			if d.Name == "" {
				l.markDynamic(d.Kind)
			} else {
				l.declare(d.Kind, d.Name, s.ActionPos)
			}
		}
	}
}

// literalArgs returns the step's Args when every parameter is a literal,
// so running the step resolves nothing; nil otherwise.
func (s *Step) literalArgs() *actions.Args {
	values := make([]any, len(s.spec.Params))
	for _, p := range s.params {
		if !p.v.static {
			return nil
		}
		values[p.index] = p.v.lit
	}
	a := actions.NewArgs(s.spec, values)
	return &a
}

// static returns what is known of the step's parameters at load.
func (s *Step) static() actions.Static {
	values := make([]any, len(s.spec.Params))
	dynamic := map[string]bool{}
	for _, p := range s.params {
		if p.v.static {
			values[p.index] = p.v.lit
		} else {
			dynamic[p.def.Name] = true
		}
	}
	return actions.Static{Args: actions.NewArgs(s.spec, values), Dynamic: func(name string) bool { return dynamic[name] }}
}

func (l *loader) declare(kind actions.RefKind, name string, pos Pos) {
	m := l.decls[kind]
	if m == nil {
		m = map[string]Pos{}
		l.decls[kind] = m
	}
	if first, dup := m[name]; dup && (kind == actions.ProcessRef || kind == actions.ThreadRef) {
		l.errs = append(l.errs, &Error{Pos: pos, Msg: fmt.Sprintf("duplicate %s name %q (first at line %d)", kind, name, first.Line)})
		return
	}
	m[name] = pos
}

func (l *loader) markDynamic(kind actions.RefKind) {
	if l.dynamic == nil {
		l.dynamic = map[actions.RefKind]bool{}
	}
	l.dynamic[kind] = true
}

// checkStep checks what needs the whole file: references to declared
// objects, and the action's own checks.
func (l *loader) checkStep(s *Step) (errs []*Error) {
	for _, p := range s.params {
		if p.def.Ref == actions.NoRef || !p.v.static {
			continue
		}
		name, _ := p.v.lit.(string)
		if msg := l.checkRef(p.def.Ref, name); msg != "" {
			errs = append(errs, &Error{Pos: p.pos, Msg: s.Action + ": " + p.def.Name + ": " + msg})
		}
	}
	if s.spec.Check == nil {
		return errs
	}
	for _, err := range s.spec.Check(s.static()) {
		pos := s.ActionPos
		var pe *actions.ParamError
		if errors.As(err, &pe) {
			for _, p := range s.params {
				if p.def.Name == pe.Param {
					pos = p.pos
				}
			}
		}
		errs = append(errs, &Error{Pos: pos, Msg: s.Action + ": " + err.Error()})
	}
	return errs
}

func (l *loader) checkRef(kind actions.RefKind, name string) string {
	switch kind {
	case actions.AgentRef:
		if name == "runner" {
			return ""
		}
		if _, ok := l.decls[actions.AgentRef][name]; ok {
			return ""
		}
		if _, ok := l.decls[actions.ProcessRef][name]; ok {
			return fmt.Sprintf("process %q is not an agent: spawn it with agent: true", name)
		}
		if l.dynamic[actions.ProcessRef] {
			return ""
		}
		return fmt.Sprintf("no agent named %q: use runner or the name of a spawn with agent: true%s", name, DidYouMean(name, keys(l.decls[actions.AgentRef])))
	case actions.StepRef:
		pos, ok := l.ids[name]
		if !ok {
			return fmt.Sprintf("no step with id %q%s", name, DidYouMean(name, keys(l.ids)))
		}
		for _, s := range l.sc.Steps {
			if s.ID == name && !s.Background {
				return fmt.Sprintf("step %q (line %d) does not run in the background: add background: true to it", name, pos.Line)
			}
		}
		return ""
	}
	if _, ok := l.decls[kind][name]; ok || l.dynamic[kind] {
		return ""
	}
	if kind == actions.ChannelRef && name == "default" {
		return ""
	}
	return fmt.Sprintf("no %s named %q%s", kind, name, DidYouMean(name, keys(l.decls[kind])))
}

// value decodes a parameter's value node for the parameter's kind.
func (l *loader) value(def actions.Param, n *yaml.Node) *value {
	v := &value{pos: l.pos(n), text: n.Value}
	fail := func(format string, args ...any) *value {
		l.errorf(n, "%s: %s", def.Name, fmt.Sprintf(format, args...))
		return nil
	}
	if def.Kind == actions.Expr {
		if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
			return fail("expected an expression, got %s", kindName(n))
		}
		src, pos := n.Value, l.contentPos(n)
		l.later = append(l.later, func() []*Error {
			p, errs := compile(src, pos, true, l.names)
			v.cond = p
			return errs
		})
		return v
	}
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return fail("expected a %s, got nothing", def.Kind)
		}
		if n.Tag == "!!str" && hasTemplate(n.Value) {
			return l.templated(v, n)
		}
		lit, _ := l.literal(n)
		if def.Kind == actions.Strings {
			return fail("expected a list such as [sleep, \"1\"], got %s", quote(n))
		}
		return l.static(v, def, lit, n)
	case yaml.SequenceNode:
		if def.Kind != actions.Strings {
			return fail("expected a %s, got a list", def.Kind)
		}
		items := make([]*value, len(n.Content))
		dynamic := false
		for i, e := range n.Content {
			e = deref(e)
			if e.Kind != yaml.ScalarNode || e.Tag == "!!null" {
				return fail("item %d: expected a string, got %s", i+1, kindName(e))
			}
			items[i] = &value{pos: l.pos(e), text: e.Value, lit: e.Value, static: true}
			if e.Tag == "!!str" && hasTemplate(e.Value) {
				if l.templated(items[i], e) == nil {
					return nil
				}
				dynamic = true
			}
		}
		if !dynamic {
			lits := make([]string, len(items))
			for i, it := range items {
				lits[i] = it.lit.(string)
			}
			v.lit, v.static = lits, true
			return v
		}
		v.list = items
		return v
	case yaml.MappingNode:
		if def.Kind != actions.StringMap {
			return fail("expected a %s, got a mapping", def.Kind)
		}
		dynamic := false
		lits := map[string]string{}
		l.mapping(n, def.Name, nil, func(key string, k, e *yaml.Node) {
			if e.Kind != yaml.ScalarNode {
				l.errorf(e, "%s.%s: expected a string, got %s", def.Name, key, kindName(e))
				return
			}
			item := &value{pos: l.pos(e), text: e.Value, lit: e.Value, static: true}
			if e.Tag == "!!str" && hasTemplate(e.Value) && l.templated(item, e) != nil {
				dynamic = true
			}
			lits[key] = e.Value
			v.mapKeys = append(v.mapKeys, key)
			v.mapVals = append(v.mapVals, item)
		})
		if !dynamic {
			v.lit, v.static, v.mapKeys, v.mapVals = lits, true, nil, nil
		}
		return v
	}
	return fail("unexpected %s", kindName(n))
}

func (l *loader) static(v *value, def actions.Param, lit any, n *yaml.Node) *value {
	out, err := convert(def, lit)
	if err != nil {
		l.errorf(n, "%s: %v", def.Name, err)
		return nil
	}
	v.lit, v.static = out, true
	return v
}

// templated parses a scalar holding ${{ }} once every id is known.
func (l *loader) templated(v *value, n *yaml.Node) *value {
	src, pos := n.Value, l.contentPos(n)
	v.static = false
	v.tmpl = &template{} // replaced below; non-nil marks the value dynamic
	l.later = append(l.later, func() []*Error {
		t, errs := parseTemplate(src, pos, l.names)
		v.tmpl = t
		return errs
	})
	return v
}

func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return quote(n)
	}
	return "an unknown YAML node"
}

func quote(n *yaml.Node) string {
	if n.Kind != yaml.ScalarNode {
		return kindName(n)
	}
	return strconv.Quote(n.Value)
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
