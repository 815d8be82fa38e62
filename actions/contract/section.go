package contract

import "go.yaml.in/yaml/v3"

// Section is a top-level key of a scenario file that belongs to actions
// rather than to the runner, beside steps: and channels: — programs:, the
// code the program action runs, is one. The loader reads the key's value
// with Load (every error at its line and column, with the file's other
// errors), declares the names it lists as objects of kind Declares (so a
// parameter whose Ref is that kind is checked against them, with a
// suggestion for a near miss), and gives the loaded value to the steps:
// [Host].Section at run time, [Static].Section to a Spec's Check at load.
// `pmrun schema` describes the section with Schema. Neither the loader nor
// the runner names a section: adding one touches only the action that
// owns it.
type Section struct {
	// Key is the top-level key: programs.
	Key string
	// Doc says what the section holds, for the schema.
	Doc string
	// Declares is the kind of object each name the section lists is.
	Declares RefKind
	// Load reads the key's value. It returns the value the steps get, the
	// names it declares with their positions (declared even when the
	// section has errors, so that references to them are not reported as
	// well), and every error; the value is nil when there are errors.
	Load func(n *yaml.Node) (value any, names []SectionName, errs []SectionError)
	// Schema is the JSON Schema of the key's value and the definitions it
	// refers to as #/$defs/NAME.
	Schema func() (schema, defs map[string]any)
	// Overlay, when set, lets a student's file replace some of the
	// section's entries (a lab's programs, see lang.LoadOptions): it
	// reads n, the key's value in that file (named file), and returns
	// base, the value Load returned for the lab, with n's entries in
	// place of base's entries of the same names. n must hold exactly the
	// entries want names; errors are at their positions in file.
	Overlay func(base any, file string, n *yaml.Node, want []string) (any, []SectionError)
}

// SectionName is a name a section declares, at its position in the file.
type SectionName struct {
	Name      string
	Line, Col int
}

// SectionError is a mistake in a section, at its position in the file.
type SectionError struct {
	Line, Col int
	Msg       string
}
