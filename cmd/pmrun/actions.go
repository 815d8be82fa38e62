package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pmrun/pmrun/actions"
)

func init() {
	register(func(c *cli) *cobra.Command {
		return &cobra.Command{
			Use:   "actions [NAME]",
			Short: "list the actions, or one action's parameters and result fields",
			Long: `Without NAME, lists every action a step can run. With NAME, shows that
action's parameters (kind, default, whether required) and the fields of its
result, which expressions read as steps.ID.FIELD.`,
			ValidArgsFunction: func(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
				if len(args) > 0 {
					return nil, cobra.ShellCompDirectiveNoFileComp
				}
				var names []cobra.Completion
				for _, s := range actions.Registry().All() {
					names = append(names, cobra.CompletionWithDesc(s.Name, s.Summary))
				}
				return names, cobra.ShellCompDirectiveNoFileComp
			},
			RunE: func(_ *cobra.Command, args []string) error { return c.actions(args) },
		}
	})
}

func (c *cli) actions(rest []string) error {
	switch len(rest) {
	case 0:
		width := 0
		for _, s := range actions.Registry().All() {
			width = max(width, len(s.Name))
		}
		for _, s := range actions.Registry().All() {
			fmt.Fprintf(c.stdout, "  %-*s %s\n", width, s.Name, s.Summary)
		}
		fmt.Fprintln(c.stdout, "\n'pmrun actions NAME' shows an action's parameters and result fields.")
		return nil
	case 1:
		spec, ok := actions.Registry().Lookup(rest[0])
		if !ok {
			names := actions.Registry().Names()
			return usageErrorf("no action %q; the actions are %s", rest[0], strings.Join(names, ", "))
		}
		describeAction(c.stdout, spec)
		return nil
	}
	return usageErrorf("actions: want at most one action name")
}

func describeAction(w io.Writer, s *actions.Spec) {
	fmt.Fprintf(w, "%s: %s\n", s.Name, s.Summary)
	if s.Shorthand != "" {
		p, _ := s.Param(s.Shorthand)
		fmt.Fprintf(w, "\nShorthand: %s: %s  (sets %s)\n", s.Name, strings.ToUpper(p.Kind.String()), s.Shorthand)
	}
	fmt.Fprintln(w, "\nParameters:")
	for _, p := range s.Params {
		var notes []string
		if p.Required {
			notes = append(notes, "required")
		}
		if p.Default != nil {
			notes = append(notes, fmt.Sprintf("default %v", p.Default))
		}
		if len(p.Enum) > 0 {
			notes = append(notes, "one of "+strings.Join(p.Enum, "|"))
		}
		if p.Min != nil && p.Max != nil {
			notes = append(notes, fmt.Sprintf("%d..%d", *p.Min, *p.Max))
		} else if p.Min != nil {
			notes = append(notes, fmt.Sprintf("≥ %d", *p.Min))
		}
		if p.Ref != actions.NoRef {
			article := "a "
			if strings.ContainsRune("aeiou", rune(p.Ref.String()[0])) {
				article = "an "
			}
			notes = append(notes, "names "+article+p.Ref.String())
		}
		note := ""
		if len(notes) > 0 {
			note = " (" + strings.Join(notes, ", ") + ")"
		}
		fmt.Fprintf(w, "  %-12s %-15s %s%s\n", p.Name, p.Kind, p.Doc, note)
	}
	for _, group := range s.OneOf {
		fmt.Fprintf(w, "  exactly one of: %s\n", strings.Join(group, ", "))
	}
	fmt.Fprintln(w, "\nResult fields (steps.ID.FIELD):")
	for _, f := range s.Results {
		fmt.Fprintf(w, "  %-15s %-10s %s\n", f.Name, f.Type, f.Doc)
	}
	fmt.Fprintf(w, "  %-15s %-10s %s\n", "status", "string", "ok, failed or skipped")
	fmt.Fprintf(w, "  %-15s %-10s %s\n", "duration", "duration", "how long the step took")
	fmt.Fprintf(w, "  %-15s %-10s %s\n", "error", "string", "why the step failed, or empty")
	fmt.Fprintln(w, "\nEvery step also takes: id, name, if, timeout, retry, continue_on_error, background.")
}
