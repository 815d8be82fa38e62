package actions

// ProgramOptions are what the command line gives the steps that run
// programs, beside the file: `pmrun run` hands them to the runner in
// runner.Options.SectionOptions under [ProgramsKey], and the runner
// carries them to the steps without naming them. A new option of the
// program action is a field here and the line of the command that sets
// it.
type ProgramOptions struct {
	// Schedules are the schedules given on the command line (--replay):
	// a step that runs the program a schedule names replays it.
	Schedules []string
	// Terminal is the person at the keyboard, for steps with scheduler:
	// manual; nil: such a step fails, saying it needs one.
	Terminal *Terminal
	// SearchShard is the share of every program search's runs this run
	// makes (--search-shard); the zero value is the whole search.
	SearchShard Shard
}

// Shard is the share Index (0-based) of Count that one CI worker takes of
// a search's runs; a Count of 0 or 1 is the whole search.
type Shard struct {
	Index, Count int
}

// programOptions returns what the command line gave the run's program
// steps: nothing when it gave nothing.
func programOptions(env *Env) ProgramOptions {
	if o, _ := env.Host.SectionOptions(ProgramsKey).(*ProgramOptions); o != nil {
		return *o
	}
	return ProgramOptions{}
}
