package lang

import (
	"fmt"
	"strings"
)

// template is a string parameter that embeds ${{ EXPR }}. A template that
// is exactly one expression yields the expression's typed value; otherwise
// the parts are joined as text.
type template struct {
	lits  []string   // len(progs)+1 literal pieces around the expressions
	progs []*Program // the embedded expressions
}

const (
	openDelim  = "${{"
	closeDelim = "}}"
)

// hasTemplate reports whether s embeds an expression.
func hasTemplate(s string) bool { return strings.Contains(s, openDelim) }

// parseTemplate splits s, whose first character is at pos, into literal
// text and compiled expressions.
func parseTemplate(s string, pos Pos, names *exprNames) (*template, []*Error) {
	t := &template{}
	var errs []*Error
	rest, consumed := s, 0
	c := cursor{s: s, line: 1}
	at := func(i int) Pos {
		line, col := c.at(i)
		return offset(pos, line, col)
	}
	for {
		i := strings.Index(rest, openDelim)
		if i < 0 {
			t.lits = append(t.lits, rest)
			break
		}
		start := consumed + i
		j := strings.Index(rest[i+len(openDelim):], closeDelim)
		if j < 0 {
			errs = append(errs, &Error{Pos: at(start), Msg: "unterminated ${{: missing }}"})
			return nil, errs
		}
		body := rest[i+len(openDelim) : i+len(openDelim)+j]
		bodyStart := start + len(openDelim)
		if strings.Contains(body, openDelim) {
			errs = append(errs, &Error{Pos: at(start), Msg: "${{ inside ${{ }}: expressions do not nest"})
			return nil, errs
		}
		t.lits = append(t.lits, rest[:i])
		p, perrs := compile(body, at(bodyStart), false, names)
		errs = append(errs, perrs...)
		t.progs = append(t.progs, p)
		advance := i + len(openDelim) + j + len(closeDelim)
		rest, consumed = rest[advance:], consumed+advance
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return t, nil
}

// cursor walks a string forward, keeping the line (1-based) and column
// (0-based, in runes) of a byte offset as locate counts them, so that
// placing every expression of a long template takes one pass over it, not
// one from its start for each.
type cursor struct {
	s              string
	off, line, col int
}

// at returns the line and column of byte offset i, which is not before
// the last one asked for.
func (c *cursor) at(i int) (line, col int) {
	for _, r := range c.s[c.off:i] {
		c.col++
		if r == '\n' {
			c.line, c.col = c.line+1, 0
		}
	}
	c.off = i
	return c.line, c.col
}

// varsOnly reports whether the template's value is known at load: its
// expressions name nothing but vars.
func (t *template) varsOnly() bool {
	for _, p := range t.progs {
		if p == nil || !p.varsOnly {
			return false
		}
	}
	return true
}

// whole reports whether the template is exactly one expression.
func (t *template) whole() bool {
	return len(t.progs) == 1 && strings.TrimSpace(t.lits[0]) == "" && strings.TrimSpace(t.lits[1]) == ""
}

// eval fills the template in.
func (t *template) eval(s *Scope) (any, error) {
	if t.whole() {
		return s.Eval(t.progs[0], nil)
	}
	var b strings.Builder
	for i, p := range t.progs {
		b.WriteString(t.lits[i])
		v, err := s.Eval(p, nil)
		if err != nil {
			return nil, err
		}
		if v != nil {
			fmt.Fprint(&b, v)
		}
	}
	b.WriteString(t.lits[len(t.lits)-1])
	return b.String(), nil
}
