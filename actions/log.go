package actions

import (
	"context"

	"github.com/hashicorp/go-hclog"
)

func init() {
	register(&Spec{
		Name:      "log",
		Summary:   "Write a message to the log and the console.",
		Shorthand: "message",
		Params: []Param{
			{Name: "message", Kind: String, Required: true, Doc: "the text; may embed ${{ EXPR }}"},
			{Name: "level", Kind: String, Default: "info", Enum: []string{"debug", "info", "warn", "error"}, Doc: "the log level"},
		},
		Results: fieldsOf[logResult](),
		New: func(a Args) (Action, error) {
			return &logStep{text: a.String("message"), level: hclog.LevelFromString(a.String("level"))}, nil
		},
	})
}

type logResult struct {
	Message string `result:"message" doc:"the text as logged, templates filled in"`
}

type logStep struct {
	text  string
	level hclog.Level
}

func (l *logStep) Run(ctx context.Context, env *Env) (Result, error) {
	env.EventLevel(l.level, evLog, l.text)
	return resultOf(logResult{Message: l.text}), nil
}
