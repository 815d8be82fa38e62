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

// opSchema is one operation: the bare word yield, or a mapping with one
// operation key and that operation's other keys.
func opSchema() obj {
	ops := defRef("program_ops")
	one := func(key string, value obj, more obj) obj {
		props := obj{key: value}
		for k, v := range more {
			props[k] = v
		}
		return obj{"type": "object", "additionalProperties": false, "required": []string{key}, "properties": props}
	}
	assign := func(text string) obj {
		return doc(obj{"type": "string", "pattern": assignPattern}, text)
	}
	return doc(obj{"anyOf": []obj{
		{"const": "yield"},
		one("wait", nameSchema("Wait on a semaphore: one step, when its value is above 0."), nil),
		one("signal", nameSchema("Signal a semaphore: one step."), nil),
		one("lock", nameSchema("Lock a mutex: one step, when it is free."), nil),
		one("unlock", nameSchema("Unlock a mutex the thread holds: one step."), nil),
		one("cond_wait", doc(obj{
			"type": "object", "additionalProperties": false, "required": []string{"cond", "mutex"},
			"properties": obj{"cond": nameSchema(""), "mutex": nameSchema("")},
		}, "Release the mutex and wait on the condition, then take the mutex back: two steps."), nil),
		one("cond_signal", nameSchema("Wake the oldest waiter of a condition: one step."), nil),
		one("cond_broadcast", nameSchema("Wake every waiter of a condition: one step."), nil),
		one("set", assign("x = EXPR: a read step, then a write step, when EXPR reads a shared variable."), nil),
		one("atomic_set", assign("x = EXPR in one step."), nil),
		one("local", assign("t = EXPR: a thread-local; a step only when EXPR reads a shared variable."), nil),
		one("if", exprSchema("A test, then then: or else:."), obj{"then": ops, "else": ops}),
		one("while", exprSchema("A loop; without do: a spin, each test a step."), obj{"do": ops}),
		one("repeat", exprSchema("How many times to run do:."), obj{"do": ops}),
		one("critical", obj{"anyOf": []obj{
			ops,
			{"type": "object", "additionalProperties": false, "required": []string{"do"}, "properties": obj{"region": nameSchema(""), "do": ops}},
		}, "description": "Operations inside a critical region, checked for mutual exclusion: entering and leaving are steps."}, nil),
		one("assert", exprSchema("Must hold: one step."), nil),
		one("work", doc(obj{"anyOf": []obj{{"type": "string", "pattern": durationPattern}, {"const": 0}}}, "Real time under scheduler: os, none under control: one step."), nil),
		one("yield", obj{"type": "null"}, nil),
		one("log", doc(obj{"type": []string{"string", "number", "boolean"}}, "A message, with ${{ EXPR }} parts: one step."), nil),
	}}, "One operation: a mapping with one operation key, or yield.")
}
