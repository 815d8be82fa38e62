package program

// Schema is the JSON Schema (draft 2020-12) of a `programs:` section, for
// `pmrun schema`: the section's own schema, and the definitions it refers
// to as #/$defs/program, #/$defs/program_ops and #/$defs/program_op. It
// checks the shape the parser accepts (keys, kinds of values, one
// operation an item); names and expressions are checked by [Load].
func Schema() (section, defs map[string]any) {
	section = obj{
		"type":                 "object",
		"description":          "Programs: synchronization code written in the scenario, run on real OS threads by the program action.",
		"propertyNames":        obj{"pattern": identPattern},
		"additionalProperties": defRef("program"),
	}
	defs = obj{
		"program":     programSchema(),
		"program_ops": obj{"type": "array", "items": defRef("program_op"), "description": "A list of operations, run in order."},
		"program_op":  opSchema(),
	}
	return section, defs
}

type obj = map[string]any

const (
	identPattern = `^[A-Za-z_][A-Za-z0-9_]*$`
	// assignPattern is NAME = EXPR, not NAME == EXPR.
	assignPattern   = `^\s*[A-Za-z_][A-Za-z0-9_]*\s*=([^=]|$)`
	durationPattern = `^\s*(0|([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h)(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))*)\s*$`
)

func defRef(name string) obj { return obj{"$ref": "#/$defs/" + name} }

func doc(v obj, text string) obj {
	v["description"] = text
	return v
}

func exprSchema(text string) obj {
	return doc(obj{"type": []string{"string", "boolean", "integer"}}, text+" An expr-language expression.")
}

func nameSchema(text string) obj {
	return doc(obj{"type": "string", "pattern": identPattern}, text)
}

func nameList(text string) obj {
	return doc(obj{"type": "array", "items": obj{"type": "string", "pattern": identPattern}}, text)
}

// count is a whole number from lo to hi, or a ${{ vars.X }} the loader
// fills in (a lab's variant).
func count(lo, hi int) obj {
	return obj{"anyOf": []obj{{"type": "integer", "minimum": lo, "maximum": hi}, varTemplate}}
}

// varTemplate is a value that the loader fills in from the scenario's
// vars: ${{ vars.readers }}.
var varTemplate = obj{"type": "string", "pattern": `^\s*\$\{\{.*\}\}\s*$`, "description": "${{ EXPR }} of the scenario's vars, filled in at load."}

func programSchema() obj {
	return obj{
		"type":                 "object",
		"additionalProperties": false,
		"required":             []string{"threads"},
		"properties": obj{
			"description": obj{"type": "string"},
			"vars": doc(obj{
				"type":                 "object",
				"propertyNames":        obj{"pattern": identPattern},
				"additionalProperties": obj{"anyOf": []obj{{"type": []string{"integer", "boolean"}}, varTemplate}},
			}, "Shared variables: integers and booleans, with their initial values."),
			"semaphores": doc(obj{
				"type":          "object",
				"propertyNames": obj{"pattern": identPattern},
				"additionalProperties": obj{"anyOf": []obj{
					count(0, MaxValue),
					{
						"type":                 "object",
						"additionalProperties": false,
						"properties": obj{
							"value": count(0, MaxValue),
							"fifo":  doc(obj{"type": "boolean"}, "A signal hands its unit to the oldest waiter."),
							"max":   doc(count(1, MaxValue), "A signal past this value is a misuse."),
						},
					},
				}},
			}, "Counting semaphores: an initial value, or {value, fifo, max}."),
			"mutexes": nameList("Mutexes, owned: unlock by a thread that does not hold one is a misuse."),
			"conds":   nameList("Condition variables (Mesa): cond_wait, cond_signal, cond_broadcast."),
			"regions": doc(obj{
				"type":          "object",
				"propertyNames": obj{"pattern": identPattern},
				"additionalProperties": obj{"anyOf": []obj{
					count(1, MaxThreads),
					{"type": "object", "additionalProperties": false, "required": []string{"capacity"}, "properties": obj{"capacity": count(1, MaxThreads)}},
				}},
			}, "Critical regions that admit more than one thread: a capacity (Downey's multiplex)."),
			"threads": doc(obj{
				"type":          "object",
				"minProperties": 1,
				"propertyNames": obj{"pattern": identPattern},
				"additionalProperties": obj{"anyOf": []obj{
					defRef("program_ops"),
					{
						"type":                 "object",
						"additionalProperties": false,
						"required":             []string{"count", "body"},
						"properties":           obj{"count": count(1, MaxThreads), "body": defRef("program_ops")},
					},
				}},
			}, "The threads: a list of operations, or {count: N, body} for N alike (W0, W1, …; self is the index)."),
			"invariants": doc(obj{"type": "array", "items": exprSchema("")}, "Conditions on the shared variables, checked after every step."),
			"expect":     exprSchema("A condition on the shared variables when every thread has finished."),
		},
	}
}

// opSchema is one operation: the bare word of an operation that takes
// nothing (yield), or a mapping with one operation key, what its shape
// takes, and the lists of operations it takes beside it; one alternative
// an operation, from its declaration (ops.go).
func opSchema() obj {
	list := defRef("program_ops")
	var alts []obj
	for _, d := range table {
		if d.name != "" && d.shape == ShapeNone {
			alts = append(alts, obj{"const": d.name})
		}
	}
	for _, d := range table {
		if d.name == "" {
			continue
		}
		props := obj{d.name: shapeSchema(d, list)}
		for _, b := range d.blocks {
			props[b] = list
		}
		alts = append(alts, obj{"type": "object", "additionalProperties": false, "required": []string{d.name}, "properties": props})
	}
	return doc(obj{"anyOf": alts}, "One operation: a mapping with one operation key, or yield.")
}

// shapeSchema is what an operation's key takes, as its shape says.
func shapeSchema(d opDecl, list obj) obj {
	switch d.shape {
	case ShapeObject:
		return nameSchema(d.doc)
	case ShapeCondWait:
		return doc(obj{
			"type": "object", "additionalProperties": false, "required": []string{"cond", "mutex"},
			"properties": obj{"cond": nameSchema(""), "mutex": nameSchema("")},
		}, d.doc)
	case ShapeAssign:
		return doc(obj{"type": "string", "pattern": assignPattern}, d.doc)
	case ShapeExpr:
		return exprSchema(d.doc)
	case ShapeRegion:
		return obj{"anyOf": []obj{
			list,
			{"type": "object", "additionalProperties": false, "required": []string{"do"}, "properties": obj{"region": nameSchema(""), "do": list}},
		}, "description": d.doc}
	case ShapeDuration:
		return doc(obj{"anyOf": []obj{{"type": "string", "pattern": durationPattern}, {"const": 0}}}, d.doc)
	case ShapeText:
		return doc(obj{"type": []string{"string", "number", "boolean"}}, d.doc)
	}
	return obj{"type": "null"}
}
