package native

import (
	"crypto/sha256"
	"debug/dwarf"
	"debug/elf"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// binary is what pmrun reads of a program's image: its symbols (to name
// threads by their start routine and objects by their variable) and its
// line table (DWARF, when built with -g) to give each call its source
// line.
type binary struct {
	path  string
	hash  string // of the file's bytes, for schedules
	funcs []symbol
	data  []symbol
	lines []lineEntry
	// inlined are the inlined calls (pmrun.h's pmrun_point, std::mutex's
	// lock, a static helper): where each was called from.
	inlined []inlineRange
	// points: the program calls pmrun_point (pmrun.h's weak reference
	// to pmrun_point_ is in its symbols).
	points bool
}

type inlineRange struct {
	lo, hi uint64
	depth  int
	file   string
	line   int
}

type symbol struct {
	addr, size uint64
	name       string
}

type lineEntry struct {
	addr uint64
	file string
	line int
	end  bool // the end of a sequence: no line from here
}

// binKey tells a binary from a rebuilt one at the same path.
type binKey struct {
	path        string
	size, mtime int64
	ino         uint64
}

var binaries struct {
	sync.Mutex
	m map[binKey]*binary
}

// loadBinary reads the binary at path, once for each version of it; nil
// when it cannot be read.
func loadBinary(path string) *binary {
	fi, err := os.Stat(path)
	if err != nil {
		return nil
	}
	k := binKey{path: path, size: fi.Size(), mtime: fi.ModTime().UnixNano()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		k.ino = st.Ino
	}
	binaries.Lock()
	defer binaries.Unlock()
	if b, ok := binaries.m[k]; ok {
		return b
	}
	b := readBinary(path)
	if binaries.m == nil {
		binaries.m = map[binKey]*binary{}
	}
	binaries.m[k] = b
	return b
}

func readBinary(path string) *binary {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil
	}
	b := &binary{path: path, hash: hex.EncodeToString(h.Sum(nil))[:16]}
	ef, err := elf.NewFile(f)
	if err != nil {
		return b // a script: hashed, no symbols
	}
	defer ef.Close()
	syms, _ := ef.Symbols()
	dyn, _ := ef.DynamicSymbols()
	for _, s := range append(syms, dyn...) {
		b.points = b.points || s.Name == "pmrun_point_"
		if s.Value == 0 || s.Name == "" {
			continue
		}
		sym := symbol{addr: s.Value, size: s.Size, name: s.Name}
		switch elf.ST_TYPE(s.Info) {
		case elf.STT_FUNC:
			b.funcs = append(b.funcs, sym)
		case elf.STT_OBJECT:
			b.data = append(b.data, sym)
		}
	}
	byAddr := func(a, b symbol) int { return cmpUint(a.addr, b.addr) }
	slices.SortFunc(b.funcs, byAddr)
	slices.SortFunc(b.data, byAddr)
	if d, err := ef.DWARF(); err == nil {
		b.lines, b.inlined = readLines(d)
	}
	return b
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// readLines reads every compile unit's line table, sorted by address,
// and its inlined calls.
func readLines(d *dwarf.Data) ([]lineEntry, []inlineRange) {
	var out []lineEntry
	var inl []inlineRange
	r := d.Reader()
	for {
		e, err := r.Next()
		if err != nil || e == nil {
			break
		}
		if e.Tag != dwarf.TagCompileUnit {
			r.SkipChildren()
			continue
		}
		lr, err := d.LineReader(e)
		if err != nil || lr == nil {
			r.SkipChildren()
			continue
		}
		var le dwarf.LineEntry
		for lr.Next(&le) == nil {
			name := ""
			if le.File != nil {
				name = le.File.Name
			}
			out = append(out, lineEntry{addr: le.Address, file: name, line: le.Line, end: le.EndSequence})
		}
		if e.Children {
			inl = readInlined(d, r, lr.Files(), inl)
		}
	}
	slices.SortStableFunc(out, func(a, b lineEntry) int { return cmpUint(a.addr, b.addr) })
	return out, inl
}

// readInlined reads the entries of a compile unit, r just past its
// head, for its inlined calls and where each was called from.
func readInlined(d *dwarf.Data, r *dwarf.Reader, files []*dwarf.LineFile, inl []inlineRange) []inlineRange {
	depth := 1
	for depth > 0 {
		e, err := r.Next()
		if err != nil || e == nil {
			return inl
		}
		if e.Tag == 0 {
			depth--
			continue
		}
		if e.Tag == dwarf.TagInlinedSubroutine {
			f, _ := e.Val(dwarf.AttrCallFile).(int64)
			line, _ := e.Val(dwarf.AttrCallLine).(int64)
			if f > 0 && int(f) < len(files) && files[f] != nil {
				ranges, _ := d.Ranges(e)
				for _, rg := range ranges {
					inl = append(inl, inlineRange{lo: rg[0], hi: rg[1], depth: depth, file: files[f].Name, line: int(line)})
				}
			}
		}
		if e.Children {
			depth++
		}
	}
	return inl
}

// line is the source line of the instruction at vaddr (an address in the
// binary, bias taken off), as a person reads it: when the instruction is
// in a call the compiler inlined from a header (pmrun.h, <mutex>), the
// line that made the call, from the innermost caller that is not in a
// header.
func (b *binary) line(vaddr uint64) (file string, line int, ok bool) {
	file, line, ok = b.tableLine(vaddr)
	if !ok || !isHeader(file) {
		return file, line, ok
	}
	var calls []inlineRange
	for _, r := range b.inlined {
		if r.lo <= vaddr && vaddr < r.hi {
			calls = append(calls, r)
		}
	}
	slices.SortFunc(calls, func(a, b inlineRange) int { return b.depth - a.depth })
	for _, c := range calls {
		file, line = filepath.Base(c.file), c.line
		if !isHeader(file) {
			break
		}
	}
	return file, line, true
}

// isHeader says whether a source file is a header: .h and the like, or a
// C++ standard header, which has no extension.
func isHeader(file string) bool {
	switch filepath.Ext(file) {
	case ".h", ".hh", ".hpp", ".hxx", ".inl", ".tcc", "":
		return true
	}
	return false
}

// tableLine is the line table's line for vaddr.
func (b *binary) tableLine(vaddr uint64) (file string, line int, ok bool) {
	if b == nil || len(b.lines) == 0 {
		return "", 0, false
	}
	i, _ := slices.BinarySearchFunc(b.lines, vaddr+1, func(e lineEntry, t uint64) int { return cmpUint(e.addr, t) })
	if i == 0 {
		return "", 0, false
	}
	e := b.lines[i-1]
	if e.end || e.line == 0 {
		return "", 0, false
	}
	return filepath.Base(e.file), e.line, true
}

// symbolAt names the symbol of syms holding vaddr: its name, with +OFF
// past its start.
func symbolAt(syms []symbol, vaddr uint64) (string, bool) {
	i, _ := slices.BinarySearchFunc(syms, vaddr+1, func(s symbol, t uint64) int { return cmpUint(s.addr, t) })
	if i == 0 {
		return "", false
	}
	s := syms[i-1]
	if vaddr >= s.addr+max(s.size, 1) {
		return "", false
	}
	name := demangle(s.name)
	if off := vaddr - s.addr; off > 0 {
		name += "+" + strconv.FormatUint(off, 10)
	}
	return name, true
}

// demangle shortens a C++ name (_Z6workerPv, _ZN2ns4workEv) to its last
// identifier; a C name is left as it is.
func demangle(name string) string {
	rest, ok := strings.CutPrefix(name, "_Z")
	if !ok {
		return name
	}
	rest = strings.TrimPrefix(rest, "N")
	last := name
	for len(rest) > 0 && rest[0] >= '0' && rest[0] <= '9' {
		n := 0
		for len(rest) > 0 && rest[0] >= '0' && rest[0] <= '9' {
			n = n*10 + int(rest[0]-'0')
			rest = rest[1:]
		}
		if n > len(rest) {
			break
		}
		last, rest = rest[:n], rest[n:]
	}
	return last
}
