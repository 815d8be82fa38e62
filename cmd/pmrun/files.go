package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/pmrun/pmrun/runner/lang"
)

// The scenario files a command reads: the paths given, folders expanded,
// a shard of them, loaded one after another.

// scenarioFiles expands folders into their *.yaml and *.yml files, sorted.
func scenarioFiles(paths []string) ([]string, error) {
	var files []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, usageErrorf("%s: %v", p, errors.Unwrap(err))
		}
		if !fi.IsDir() {
			files = append(files, p)
			continue
		}
		var found []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && (strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
				found = append(found, path)
			}
			return nil
		})
		if err != nil {
			return nil, usageErrorf("%s: %v", p, err)
		}
		if len(found) == 0 {
			return nil, usageErrorf("%s: no *.yaml files in this folder", p)
		}
		sort.Strings(found)
		files = append(files, found...)
	}
	return files, nil
}

// shard keeps the files of shard I of N (1-based), by position in the
// sorted list, so N workers given 1/N … N/N run every file once.
func shard(files []string, spec string) ([]string, error) {
	i, n, err := parseShard(spec)
	if err != nil {
		return nil, usageErrorf("--shard %q: %v", spec, err)
	}
	var out []string
	for k, f := range files {
		if k%n == i-1 {
			out = append(out, f)
		}
	}
	return out, nil
}

// parseShard reads I/N, 1 ≤ I ≤ N.
func parseShard(spec string) (i, n int, err error) {
	is, ns, ok := strings.Cut(spec, "/")
	i, err1 := strconv.Atoi(is)
	n, err2 := strconv.Atoi(ns)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 1 || i > n {
		return 0, 0, errors.New("want I/N with 1 ≤ I ≤ N, e.g. 2/4")
	}
	return i, n, nil
}

// loadAll loads every file, collecting every file's errors; a --var that
// no file declares is a usage error.
func loadAll(files []string, opt lang.LoadOptions) ([]*lang.Scenario, error) {
	var out []*lang.Scenario
	var declared []string
	err := eachFile(files, opt, lang.LoadFile, func(sc *lang.Scenario) {
		out = append(out, sc)
		for name := range sc.Vars {
			declared = append(declared, name)
		}
	})
	if err != nil {
		return nil, err
	}
	return out, undeclaredVars(opt.Vars, declared)
}

// eachFile loads every file with load, under the size cap of
// lang.MaxSize, handing each to use and collecting every file's errors.
func eachFile[T any](files []string, opt lang.LoadOptions, load func(string, lang.LoadOptions) (T, error), use func(T)) error {
	max, err := lang.MaxSize()
	if err != nil {
		return usageErrorf("%v", err)
	}
	opt.MaxSize = max
	var errs lang.LoadErrors
	for _, f := range files {
		v, err := load(f, opt)
		if err != nil {
			var le lang.LoadErrors
			if errors.As(err, &le) {
				errs = append(errs, le...)
				continue
			}
			return err
		}
		use(v)
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// undeclaredVars returns a usage error for the first --var, by name, that
// no scenario declares.
func undeclaredVars(vars map[string]string, declared []string) error {
	names := make([]string, 0, len(vars))
	for name := range vars {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := lang.UndeclaredVar(name, declared); err != nil {
			return usageErrorf("%v", err)
		}
	}
	return nil
}
