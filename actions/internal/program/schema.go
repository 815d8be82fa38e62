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
	// refPattern is an object as an operation names it: NAME, or
	// NAME[INDEX], an element of an array.
	refPattern = `^[A-Za-z_][A-Za-z0-9_]*(\[.+\])?$`
	// assignPattern is NAME = EXPR (or NAME[INDEX] = EXPR), not NAME ==
	// EXPR.
	assignPattern = `^\s*[A-Za-z_][A-Za-z0-9_]*(\[[^=]+\])?\s*=([^=]|$)`
	// callPattern is NAME(ARGUMENTS).
	callPattern     = `^\s*[A-Za-z_][A-Za-z0-9_]*\s*(\(.*\))?\s*$`
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

// refSchema is an object an operation names: NAME or NAME[INDEX].
func refSchema(text string) obj {
	return doc(obj{"type": "string", "pattern": refPattern}, text)
}

// nameList is a list of names, or {NAME: N}, an array of N.
func nameList(text string) obj {
	return doc(obj{"type": "array", "items": obj{"anyOf": []obj{
		{"type": "string", "pattern": identPattern},
		{"type": "object", "minProperties": 1, "maxProperties": 1, "propertyNames": obj{"pattern": identPattern}, "additionalProperties": count(1, MaxArray)},
	}}}, text)
}

// arrayOf is a declaration's value, or an array of them: a list, or
// {count: N, …} with what each element takes.
func arrayOf(one obj, each obj) []obj {
	return []obj{one, {"type": "array", "minItems": 1, "maxItems": MaxArray, "items": one}, each}
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
				"type":          "object",
				"propertyNames": obj{"pattern": identPattern},
				"additionalProperties": obj{"anyOf": arrayOf(
					obj{"anyOf": []obj{{"type": []string{"integer", "boolean"}}, varTemplate}},
					obj{"type": "object", "additionalProperties": false, "required": []string{"count", "value"}, "properties": obj{
						"count": count(1, MaxArray), "value": obj{"anyOf": []obj{{"type": []string{"integer", "boolean"}}, varTemplate}},
					}},
				)},
			}, "Shared variables: integers and booleans, with their initial values; a list of them, or {count, value}, is an array."),
			"semaphores": doc(obj{
				"type":          "object",
				"propertyNames": obj{"pattern": identPattern},
				"additionalProperties": obj{"anyOf": arrayOf(
					obj{"anyOf": []obj{count(0, MaxValue), semSettings(false)}},
					semSettings(true),
				)},
			}, "Counting semaphores: an initial value, or {value, fifo, max}; a list of them, or {count, …}, is an array."),
			"mutexes": nameList("Mutexes, owned: unlock by a thread that does not hold one is a misuse."),
			"conds":   nameList("Condition variables (Mesa): cond_wait, cond_signal, cond_broadcast."),
			"regions": doc(obj{
				"type":          "object",
				"propertyNames": obj{"pattern": identPattern},
				"additionalProperties": obj{"anyOf": arrayOf(
					obj{"anyOf": []obj{
						count(1, MaxThreads),
						{"type": "object", "additionalProperties": false, "required": []string{"capacity"}, "properties": obj{"capacity": count(1, MaxThreads)}},
					}},
					obj{"type": "object", "additionalProperties": false, "required": []string{"capacity", "count"}, "properties": obj{"capacity": count(1, MaxThreads), "count": count(1, MaxArray)}},
				)},
			}, "Critical regions that admit more than one thread: a capacity (Downey's multiplex); a list of them, or {count, capacity}, is an array."),
			"procedures": doc(obj{
				"type":          "object",
				"propertyNames": obj{"pattern": identPattern},
				"additionalProperties": obj{"anyOf": []obj{
					defRef("program_ops"),
					{"type": "object", "additionalProperties": false, "required": []string{"do"}, "properties": obj{
						"params": nameList("The parameters: each stands for what a call gives it (an object, a number, a value)."),
						"do":     defRef("program_ops"),
					}},
				}},
			}, "Procedures: operations with parameters, put in place by each call: NAME(ARGS)."),
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

// semSettings is a semaphore's {value, fifo, max}, with count for an
// array of them.
func semSettings(array bool) obj {
	props := obj{
		"value": count(0, MaxValue),
		"fifo":  doc(obj{"type": "boolean"}, "A signal hands its unit to the oldest waiter."),
		"max":   doc(count(1, MaxValue), "A signal past this value is a misuse."),
	}
	v := obj{"type": "object", "additionalProperties": false, "properties": props}
	if array {
		props["count"] = count(1, MaxArray)
		v["required"] = []string{"count"}
	}
	return v
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
		return refSchema(d.doc)
	case ShapeCondWait:
		return doc(obj{
			"type": "object", "additionalProperties": false, "required": []string{"cond", "mutex"},
			"properties": obj{"cond": refSchema(""), "mutex": refSchema("")},
		}, d.doc)
	case ShapeCall:
		return doc(obj{"type": "string", "pattern": callPattern}, d.doc)
	case ShapeAssign:
		return doc(obj{"type": "string", "pattern": assignPattern}, d.doc)
	case ShapeExpr:
		return exprSchema(d.doc)
	case ShapeRegion:
		return obj{"anyOf": []obj{
			list,
			{"type": "object", "additionalProperties": false, "required": []string{"do"}, "properties": obj{"region": refSchema(""), "do": list}},
		}, "description": d.doc}
	case ShapeDuration:
		return doc(obj{"anyOf": []obj{{"type": "string", "pattern": durationPattern}, {"const": 0}}}, d.doc)
	case ShapeText:
		return doc(obj{"type": []string{"string", "number", "boolean"}}, d.doc)
	}
	return obj{"type": "null"}
}
