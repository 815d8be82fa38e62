package main

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"
)

// Shell completion: 'pmrun completion bash|zsh|fish' prints the script
// (cobra's), which calls the hidden 'pmrun __complete ARGS…' to ask what
// may come next. These functions answer for pmrun's arguments and flags.

// completeScenarios completes scenario files: *.yaml, *.yml and folders,
// which the shell lists (cobra's file-extension directive).
//
// Where the names of cmd's subcommands may come too (pmrun's first
// argument), cobra has already put the ones that match in the answer,
// and one directive covers the whole answer: the file-extension
// directive would have the shell read "check" and "menu" as extensions
// (complete no command, and offer a folder menu/ for "me"). There pmrun
// lists the matching files and folders itself, beside the commands.
func completeScenarios(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	commands := 0
	if cmd != nil && len(args) == 0 {
		for _, sub := range cmd.Commands() {
			if sub.IsAvailableCommand() && strings.HasPrefix(sub.Name(), toComplete) {
				commands++
			}
		}
	}
	if commands == 0 {
		return []cobra.Completion{"yaml", "yml"}, cobra.ShellCompDirectiveFilterFileExt
	}
	return scenariosHere(toComplete), cobra.ShellCompDirectiveNoFileComp
}

// scenariosHere lists the *.yaml and *.yml files and the folders (with a
// slash) of the working directory whose names begin with prefix, hidden
// ones only when prefix begins with a dot.
func scenariosHere(prefix string) []cobra.Completion {
	entries, err := os.ReadDir(".")
	if err != nil {
		return nil
	}
	var out []cobra.Completion
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, prefix) || (strings.HasPrefix(name, ".") && !strings.HasPrefix(prefix, ".")) {
			continue
		}
		switch {
		case e.IsDir() || (e.Type()&os.ModeSymlink != 0 && isDir(name)):
			out = append(out, name+"/")
		case strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml"):
			out = append(out, name)
		}
	}
	return out
}

// isDir reports whether path is a folder (following a link).
func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

// fileWithExt completes the files with one extension, and folders.
func fileWithExt(ext string) cobra.CompletionFunc {
	return func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return []cobra.Completion{ext}, cobra.ShellCompDirectiveFilterFileExt
	}
}

// fixedChoices completes one of the given words ("word\tdescription").
func fixedChoices(choices ...string) cobra.CompletionFunc {
	return cobra.FixedCompletions(choices, cobra.ShellCompDirectiveNoFileComp)
}

// noCompletions offers nothing, and no files, for a flag that takes a
// number or a spec.
func noCompletions(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
	return nil, cobra.ShellCompDirectiveNoFileComp
}

// completeFlags registers the completion of each named flag of cmd.
func completeFlags(cmd *cobra.Command, fns map[string]cobra.CompletionFunc) {
	for name, fn := range fns {
		if err := cmd.RegisterFlagCompletionFunc(name, fn); err != nil {
			panic(fmt.Sprintf("pmrun: completion of --%s: %v", name, err)) // a flag misnamed here: a programming error
		}
	}
}

// completeVars completes --var with the names of the vars that the
// scenario files already on the command line declare, as NAME=, each
// described by its value in the file. A file that does not load is read
// as far as its vars go; one that cannot be read offers nothing.
func completeVars(_ *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if strings.Contains(toComplete, "=") {
		return nil, cobra.ShellCompDirectiveNoFileComp // a value: the user's to write
	}
	files, err := scenarioFiles(args)
	if err != nil {
		files = nil
		for _, a := range args {
			if fi, err := os.Stat(a); err == nil && fi.Mode().IsRegular() {
				files = append(files, a)
			}
		}
	}
	seen := map[string]bool{}
	var out []cobra.Completion
	for _, f := range files {
		for _, v := range declaredVars(f) {
			if seen[v.name] || !strings.HasPrefix(v.name, toComplete) {
				continue
			}
			seen[v.name] = true
			out = append(out, cobra.CompletionWithDesc(v.name+"=", fmt.Sprintf("%s (%s)", v.value, f)))
		}
	}
	sort.Strings(out)
	return out, cobra.ShellCompDirectiveNoSpace | cobra.ShellCompDirectiveNoFileComp
}

type declaredVar struct{ name, value string }

// declaredVars reads the names and values of a scenario file's vars:
// from its YAML alone, so that a file with a mistake further down still
// completes. Files over a few megabytes are skipped: completion must be
// quick.
func declaredVars(path string) []declaredVar {
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() || fi.Size() > 4<<20 {
		return nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var doc struct {
		Vars yaml.Node `yaml:"vars"`
	}
	if yaml.Unmarshal(data, &doc) != nil || doc.Vars.Kind != yaml.MappingNode {
		return nil
	}
	var out []declaredVar
	for i := 0; i+1 < len(doc.Vars.Content); i += 2 {
		k, v := doc.Vars.Content[i], doc.Vars.Content[i+1]
		value := v.Value
		if v.Kind != yaml.ScalarNode {
			value = "a " + map[yaml.Kind]string{yaml.MappingNode: "mapping", yaml.SequenceNode: "list"}[v.Kind]
		}
		out = append(out, declaredVar{name: k.Value, value: value})
	}
	return out
}
