package actions

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"
)

// Results are declared once, as a struct: each field tagged
// `result:"name"` is a field of the step's result, with its documentation
// in a `doc:"…"` tag. [fieldsOf] makes a Spec's Results of the struct and
// [resultOf] makes a step's Result of a value of it, so what `pmrun
// actions` documents and what a step returns cannot drift apart (and
// TestResultsAreDocumented checks every action's against a run).

// fieldsOf returns the result fields that T, a struct with result tags,
// declares, in its order. It panics on a struct without them, a programming
// error that every test catches at init.
func fieldsOf[T any]() []Field {
	return layoutOf(reflect.TypeFor[T]()).fields
}

// resultOf returns v, a struct with result tags, as a step's Result. A nil
// slice becomes an empty one, so that expressions see a list.
func resultOf(v any) Result {
	rv := reflect.ValueOf(v)
	l := layoutOf(rv.Type())
	r := make(Result, len(l.fields))
	for i, f := range l.fields {
		fv := rv.Field(l.index[i])
		if fv.Kind() == reflect.Slice && fv.IsNil() {
			fv = reflect.MakeSlice(fv.Type(), 0, 0)
		}
		r[f.Name] = fv.Interface()
	}
	return r
}

// mergeFields joins the result fields of an action with several kinds of
// results (wait: a process's, a thread's or a step's); a field several
// declare is listed once, as the first declares it.
func mergeFields(lists ...[]Field) []Field {
	var out []Field
	seen := map[string]bool{}
	for _, l := range lists {
		for _, f := range l {
			if !seen[f.Name] {
				seen[f.Name] = true
				out = append(out, f)
			}
		}
	}
	return out
}

// resultLayout is what the tags of a result struct say.
type resultLayout struct {
	fields []Field
	index  []int // fields[i] is the struct's field index[i]
}

var layouts sync.Map // reflect.Type -> *resultLayout

func layoutOf(t reflect.Type) *resultLayout {
	if l, ok := layouts.Load(t); ok {
		return l.(*resultLayout)
	}
	if t.Kind() != reflect.Struct {
		panic(fmt.Sprintf("actions: result type %s is not a struct", t))
	}
	l := &resultLayout{}
	for i := range t.NumField() {
		sf := t.Field(i)
		name, ok := sf.Tag.Lookup("result")
		if !ok {
			continue
		}
		l.fields = append(l.fields, Field{Name: name, Type: typeName(sf.Type), Doc: sf.Tag.Get("doc")})
		l.index = append(l.index, i)
	}
	if len(l.fields) == 0 {
		panic(fmt.Sprintf("actions: result type %s has no result tags", t))
	}
	layouts.Store(t, l)
	return l
}

// typeName is how `pmrun actions` names a result field's Go type.
func typeName(t reflect.Type) string {
	switch t {
	case reflect.TypeFor[time.Duration]():
		return "duration"
	case reflect.TypeFor[time.Time]():
		return "time"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "bool"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "int"
	case reflect.Float32, reflect.Float64:
		return "float"
	case reflect.String:
		return "string"
	case reflect.Slice, reflect.Array:
		return "list"
	case reflect.Map:
		return "map"
	}
	return strings.ToLower(t.Kind().String())
}
