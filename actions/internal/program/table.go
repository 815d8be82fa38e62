package program

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// TableWidth is the width, in columns, that [Interleaving.Format] keeps
// a table within when it can: with the 8 columns of indent the console
// shows it at under -v, a line of 100.
const TableWidth = 92

// minColumn is the narrowest a thread's column is made to wrap its
// steps in: a line number and a few words.
const minColumn = 16

// Format prints the interleaving as OSTEP's simulators do: the shared
// values after each step, then one column per thread holding that
// thread's step ("7: count = count + 1 (read)", 7 the line), and the
// failure, if any, at the bottom. A table wider than [TableWidth] has
// its widest thread columns narrowed and their steps wrapped onto more
// lines (the values on the first); one that cannot fit so (too many
// threads for a column each) gives each step one line with its thread
// named, in a single column.
func (il *Interleaving) Format() string {
	t := il.layout()
	var b strings.Builder
	switch {
	case t.fits(t.colW):
		t.columns(&b, t.colW)
	default:
		narrow := t.narrowed()
		if t.fits(narrow) {
			t.columns(&b, narrow)
		} else {
			t.single(&b)
		}
	}
	if il.Failure != nil {
		b.WriteString(il.Failure.Rule() + "\n")
	}
	return b.String()
}

// grid is an interleaving laid out: its cells as text and the width
// each column needs.
type grid struct {
	il   *Interleaving
	valW []int    // each variable's column
	colW []int    // each thread's column, wide enough for its longest step
	ops  []string // each row's step as its cell shows it
}

func (il *Interleaving) layout() *grid {
	t := &grid{il: il, valW: make([]int, len(il.Vars)), colW: make([]int, len(il.Threads)), ops: make([]string, len(il.Rows))}
	for i, v := range il.Vars {
		t.valW[i] = width(v)
	}
	for _, vals := range append([][]int64{il.Initial}, rowValues(il.Rows)...) {
		for i, v := range t.values(vals) {
			t.valW[i] = max(t.valW[i], width(v))
		}
	}
	for th, name := range il.Threads {
		t.colW[th] = width(name)
	}
	files := map[string]bool{}
	for _, row := range il.Rows {
		if row.Pos.File != "" {
			files[row.Pos.File] = true
		}
	}
	for r, row := range il.Rows {
		switch {
		case len(files) > 1 && row.Pos.File != "": // a real program of several files
			t.ops[r] = fmt.Sprintf("%s: %s", row.Pos, row.Op)
		case row.Pos.Line == 0: // a real program's call with no line
			t.ops[r] = row.Op
		default:
			t.ops[r] = fmt.Sprintf("%d: %s", row.Pos.Line, row.Op)
		}
		if row.Failed {
			t.ops[r] += "  ✗"
		}
		t.colW[row.Thread] = max(t.colW[row.Thread], width(t.ops[r]))
	}
	return t
}

// values are vals as the table shows them, a column each ("" where a
// row has no value).
func (t *grid) values(vals []int64) []string {
	out := make([]string, len(t.valW))
	for i := range min(len(vals), len(out)) {
		out[i] = formatValue(vals[i], t.il.Bools[i])
	}
	return out
}

// fits says whether columns of widths colW (and the variables') fit in
// TableWidth.
func (t *grid) fits(colW []int) bool {
	w := 2 * (len(t.valW) + len(colW) - 1)
	for _, n := range t.valW {
		w += n
	}
	for _, n := range colW {
		w += n
	}
	return w <= TableWidth
}

// narrowed narrows the widest thread columns, one column at a time,
// until the table fits or every column is as narrow as it may be (its
// thread's name, and minColumn for its steps).
func (t *grid) narrowed() []int {
	colW := append([]int(nil), t.colW...)
	floor := make([]int, len(colW))
	for th, name := range t.il.Threads {
		floor[th] = max(width(name), min(minColumn, colW[th]))
	}
	for !t.fits(colW) {
		widest := -1
		for th := range colW {
			if colW[th] > floor[th] && (widest < 0 || colW[th] > colW[widest]) {
				widest = th
			}
		}
		if widest < 0 {
			break
		}
		colW[widest]--
	}
	return colW
}

// columns writes the table with a column per thread of widths colW, a
// step longer than its column wrapped onto the lines below.
func (t *grid) columns(b *strings.Builder, colW []int) {
	line := func(vals, cells []string) {
		parts := make([]string, 0, len(t.valW)+len(colW))
		for i := range t.valW {
			parts = append(parts, fmt.Sprintf("%*s", t.valW[i], vals[i]))
		}
		for th := range colW {
			parts = append(parts, pad(cells[th], colW[th]))
		}
		b.WriteString(strings.TrimRight(strings.Join(parts, "  "), " "))
		b.WriteByte('\n')
	}
	line(t.il.Vars, t.il.Threads)
	if len(t.valW) > 0 {
		line(t.values(t.il.Initial), make([]string, len(colW)))
	}
	blank := make([]string, len(t.valW))
	for r, row := range t.il.Rows {
		t.gap(b, r)
		t.loopStart(b, r)
		vals := t.values(row.Values)
		for _, part := range wrap(t.ops[r], colW[row.Thread]) {
			cells := make([]string, len(colW))
			cells[row.Thread] = part
			line(vals, cells)
			vals = blank // the values once, on a step's first line
		}
	}
	t.loopEnd(b)
}

// single writes the table with one column for every thread's steps,
// each step naming its thread: for more threads than columns can hold.
func (t *grid) single(b *strings.Builder) {
	nameW := 0
	for _, name := range t.il.Threads {
		nameW = max(nameW, width(name))
	}
	nameW = max(nameW, width("thread"))
	line := func(vals []string, who, what string) {
		parts := make([]string, 0, len(t.valW)+2)
		for i := range t.valW {
			parts = append(parts, fmt.Sprintf("%*s", t.valW[i], vals[i]))
		}
		parts = append(parts, pad(who, nameW), what)
		b.WriteString(strings.TrimRight(strings.Join(parts, "  "), " "))
		b.WriteByte('\n')
	}
	line(t.il.Vars, "thread", "step")
	if len(t.valW) > 0 {
		line(t.values(t.il.Initial), "", "")
	}
	for r, row := range t.il.Rows {
		t.gap(b, r)
		t.loopStart(b, r)
		line(t.values(row.Values), t.il.Threads[row.Thread], t.ops[r])
	}
	t.loopEnd(b)
}

// loopStart marks, before row r, where the rows that go round for ever
// begin ([Interleaving.Repeats]).
func (t *grid) loopStart(b *strings.Builder, r int) {
	switch n := t.il.Repeats; {
	case n <= 0 || r != len(t.il.Rows)-n:
	case n == 1:
		b.WriteString("↻ the step below goes round for ever: after it the run is back where it was here\n")
	default:
		fmt.Fprintf(b, "↻ the %d steps below go round for ever: after them the run is back where it was here\n", n)
	}
}

// loopEnd closes the loop loopStart opened.
func (t *grid) loopEnd(b *strings.Builder) {
	if t.il.Repeats > 0 {
		b.WriteString("↻ back to where the loop starts, and round again, for ever\n")
	}
}

// gap writes, before row r, the line that stands for the steps the
// interleaving did not keep, if they came there.
func (t *grid) gap(b *strings.Builder, r int) {
	if il := t.il; il.Skipped > 0 && r == il.SkippedAt {
		fmt.Fprintf(b, "… %d more steps not kept (a table keeps the first and the last steps of a run) …\n", il.Skipped)
	}
}

// wrap cuts s into lines of at most w columns, at spaces where it can.
func wrap(s string, w int) []string {
	if width(s) <= w || w <= 0 {
		return []string{s}
	}
	var out []string
	line := ""
	for _, word := range strings.Fields(s) {
		for width(word) > w { // a word longer than the column: cut it
			if line != "" {
				out, line = append(out, line), ""
			}
			cut := cutAt(word, w)
			out, word = append(out, word[:cut]), word[cut:]
		}
		switch {
		case line == "":
			line = word
		case width(line)+1+width(word) <= w:
			line += " " + word
		default:
			out, line = append(out, line), word
		}
	}
	if line != "" {
		out = append(out, line)
	}
	return out
}

// cutAt is the byte offset of s's first w runes.
func cutAt(s string, w int) int {
	i := 0
	for n := 0; n < w && i < len(s); n++ {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return i
}

func width(s string) int { return utf8.RuneCountInString(s) }

func rowValues(rows []Row) [][]int64 {
	out := make([][]int64, len(rows))
	for i, r := range rows {
		out[i] = r.Values
	}
	return out
}

func pad(s string, w int) string {
	if n := width(s); n < w {
		return s + strings.Repeat(" ", w-n)
	}
	return s
}
