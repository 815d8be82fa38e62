package actions

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestEmittedEventsDeclared reads pmrun's source for the places that log
// an event and holds each name to a declaration, so that a path no test
// runs cannot log a name nothing declares (the tests' event logs check
// the paths they run: runner.EventLog.CheckDeclared). A name must be a
// constant or the Name of a variable declared as an event
// (programShown.Name), not a literal, and declared (an action's or the
// host's event, or the runner's own). A name only known
// at run time (a lab's e.Kind) is left to the logs' check.
//
// The places: env.Event(NAME, …), env.EventLevel(LEVEL, NAME, …), the
// runner's x.event(T, LEVEL, MSG, NAME, …), a place's emit(NAME, …), and
// any "event", NAME pair in a call or a list (log.Info(msg, "event",
// NAME, …)).
func TestEmittedEventsDeclared(t *testing.T) {
	t.Parallel()
	src := readModule(t, "..")
	reg := Registry()
	sites := 0
	for _, f := range src.files {
		ast.Inspect(f.ast, func(n ast.Node) bool {
			for _, name := range eventNames(n) {
				sites++
				at := src.fset.Position(name.Pos())
				at.Filename, _ = filepath.Rel("..", at.Filename)
				if lit, ok := name.(*ast.BasicLit); ok {
					t.Errorf("%s: event %s named by a literal: use the constant its declaration uses", at, lit.Value)
					continue
				}
				if value, ok := src.constant(f, name); ok && !reg.Declared(value) {
					t.Errorf("%s: event %q is logged but not declared", at, value)
				}
			}
			return true
		})
	}
	if sites < 20 {
		t.Errorf("found %d places that log an event: the scan misses them", sites)
	}
}

// eventNames returns the expressions that name an event logged by n, if n
// logs one.
func eventNames(n ast.Node) []ast.Expr {
	var list []ast.Expr
	arg := func(args []ast.Expr, i int) {
		if i < len(args) {
			list = append(list, args[i])
		}
	}
	pairs := func(elts []ast.Expr) {
		for i := 0; i+1 < len(elts); i++ {
			if lit, ok := elts[i].(*ast.BasicLit); ok && lit.Value == `"event"` {
				list = append(list, elts[i+1])
			}
		}
	}
	switch n := n.(type) {
	case *ast.CompositeLit:
		pairs(n.Elts)
	case *ast.CallExpr:
		pairs(n.Args)
		switch fun := n.Fun.(type) {
		case *ast.SelectorExpr:
			switch fun.Sel.Name {
			case "Event":
				if len(n.Args) >= 2 {
					arg(n.Args, 0)
				}
			case "EventLevel":
				arg(n.Args, 1)
			case "event", "logEncoded":
				arg(n.Args, 3)
			}
		case *ast.Ident:
			if fun.Name == "emit" {
				arg(n.Args, 0)
			}
		}
	}
	// Only a literal or a name can be checked; e.Kind is known at run time.
	out := list[:0]
	for _, e := range list {
		switch e := e.(type) {
		case *ast.BasicLit:
			if e.Kind == token.STRING {
				out = append(out, e)
			}
		case *ast.Ident, *ast.SelectorExpr:
			out = append(out, e)
		}
	}
	return out
}

// module is pmrun's Go source, tests and testdata left out.
type module struct {
	fset   *token.FileSet
	files  []*sourceFile
	consts map[string]map[string]string // package folder → constant → its text
	// eventVars are the variables declared as an event: package folder →
	// variable → the expression of its Name.
	eventVars map[string]map[string]ast.Expr
}

type sourceFile struct {
	ast *ast.File
	dir string // the package's folder, from the module's root
}

const modulePath = "github.com/pmrun/pmrun"

func readModule(t *testing.T, root string) *module {
	t.Helper()
	m := &module{fset: token.NewFileSet(), consts: map[string]map[string]string{}, eventVars: map[string]map[string]ast.Expr{}}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (name == "testdata" || strings.HasPrefix(name, ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(m.fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		dir, _ := filepath.Rel(root, filepath.Dir(path))
		m.files = append(m.files, &sourceFile{ast: f, dir: filepath.ToSlash(dir)})
		m.addConsts(dir, f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("%s is not the module's root: %v", root, err)
	}
	return m
}

// addConsts keeps the package-level string constants of f, and the
// variables declared as an event, &Event{Name: NAME, …}, as VAR.Name.
func (m *module) addConsts(dir string, f *ast.File) {
	dir = filepath.ToSlash(dir)
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if ok && g.Tok == token.VAR {
			m.addEventVars(dir, g)
		}
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			vs := s.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if i >= len(vs.Values) {
					continue
				}
				if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					if v, err := strconv.Unquote(lit.Value); err == nil {
						if m.consts[dir] == nil {
							m.consts[dir] = map[string]string{}
						}
						m.consts[dir][name.Name] = v
					}
				}
			}
		}
	}
}

// addEventVars keeps the name of each variable g declares as an event,
// the name in its Name field: a literal, or a constant resolved later.
func (m *module) addEventVars(dir string, g *ast.GenDecl) {
	for _, s := range g.Specs {
		vs := s.(*ast.ValueSpec)
		for i, name := range vs.Names {
			if i >= len(vs.Values) {
				continue
			}
			u, ok := vs.Values[i].(*ast.UnaryExpr)
			if !ok {
				continue
			}
			lit, ok := u.X.(*ast.CompositeLit)
			if !ok {
				continue
			}
			if t, ok := lit.Type.(*ast.Ident); !ok || t.Name != "Event" {
				continue
			}
			for _, e := range lit.Elts {
				if kv, ok := e.(*ast.KeyValueExpr); ok {
					if k, ok := kv.Key.(*ast.Ident); ok && k.Name == "Name" {
						if m.eventVars[dir] == nil {
							m.eventVars[dir] = map[string]ast.Expr{}
						}
						m.eventVars[dir][name.Name] = kv.Value
					}
				}
			}
		}
	}
}

// constant returns the value of the constant e names in f: NAME of f's
// package, or PKG.NAME of a package of the module f imports. ok is false
// for anything else (a variable, a field). VAR.Name, where VAR is declared
// as an event, is the name in its declaration.
func (m *module) constant(f *sourceFile, e ast.Expr) (value string, ok bool) {
	switch e := e.(type) {
	case *ast.Ident:
		value, ok = m.consts[f.dir][e.Name]
	case *ast.SelectorExpr:
		pkg, isIdent := e.X.(*ast.Ident)
		if !isIdent {
			return "", false
		}
		if name, declared := m.eventVars[f.dir][pkg.Name]; declared && e.Sel.Name == "Name" {
			if lit, isLit := name.(*ast.BasicLit); isLit {
				value, err := strconv.Unquote(lit.Value)
				return value, err == nil
			}
			return m.constant(f, name)
		}
		for _, imp := range f.ast.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			rel, ours := strings.CutPrefix(path, modulePath+"/")
			if !ours {
				continue
			}
			name := rel[strings.LastIndex(rel, "/")+1:]
			if imp.Name != nil {
				name = imp.Name.Name
			}
			if name == pkg.Name {
				value, ok = m.consts[rel][e.Sel.Name]
			}
		}
	}
	return value, ok
}
