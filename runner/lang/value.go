package lang

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pmrun/pmrun/actions/contract"
)

// convert turns a value — a YAML literal or an expression's result — into
// the Go type of a parameter kind, and checks its bounds.
func convert(p contract.Param, v any) (any, error) {
	out, err := convertKind(p.Kind, v)
	if err != nil {
		return nil, err
	}
	return out, checkBounds(p, out)
}

func convertKind(k contract.Kind, v any) (any, error) {
	switch k {
	case contract.String:
		switch v := v.(type) {
		case string:
			return v, nil
		case nil:
			return nil, errors.New("expected a string, got nothing")
		case []any, map[string]any:
			return nil, fmt.Errorf("expected a string, got a %s", typeName(v))
		}
		return fmt.Sprint(v), nil
	case contract.Int:
		return toInt(v)
	case contract.Bool:
		switch v := v.(type) {
		case bool:
			return v, nil
		case string:
			if b, err := strconv.ParseBool(v); err == nil {
				return b, nil
			}
		}
		return nil, fmt.Errorf("expected true or false, got %s", describe(v))
	case contract.Duration:
		return toDuration(v)
	case contract.Size:
		return toSize(v)
	case contract.Strings:
		switch v := v.(type) {
		case []string:
			return v, nil
		case []any:
			out := make([]string, len(v))
			for i, e := range v {
				s, err := convertKind(contract.String, e)
				if err != nil {
					return nil, fmt.Errorf("item %d: %w", i, err)
				}
				out[i] = s.(string)
			}
			return out, nil
		}
		return nil, fmt.Errorf("expected a list, got %s", describe(v))
	case contract.StringMap:
		switch v := v.(type) {
		case map[string]string:
			return v, nil
		case map[string]any:
			out := make(map[string]string, len(v))
			for key, e := range v {
				s, err := convertKind(contract.String, e)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", key, err)
				}
				out[key] = s.(string)
			}
			return out, nil
		}
		return nil, fmt.Errorf("expected a mapping, got %s", describe(v))
	}
	return nil, fmt.Errorf("cannot take a %s from %s", k, describe(v))
}

func toInt(v any) (any, error) {
	switch v := v.(type) {
	case int:
		return v, nil
	case int64:
		return int(v), nil
	case uint64:
		if v <= math.MaxInt {
			return int(v), nil
		}
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
			return int(v), nil
		}
	case string:
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
			return n, nil
		}
	}
	return nil, fmt.Errorf("expected an integer, got %s", describe(v))
}

func toDuration(v any) (any, error) {
	switch v := v.(type) {
	case time.Duration:
		if v < 0 {
			return nil, fmt.Errorf("duration %s is negative", v)
		}
		return v, nil
	case int:
		if v == 0 {
			return time.Duration(0), nil
		}
		return nil, fmt.Errorf("duration %d has no unit: write e.g. %dms or %ds", v, v, v)
	case string:
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("bad duration %q: write e.g. 250ms, 2s or 1m30s", v)
		}
		if d < 0 {
			return nil, fmt.Errorf("duration %s is negative", v)
		}
		return d, nil
	}
	return nil, fmt.Errorf("expected a duration such as 250ms, got %s", describe(v))
}

var sizeUnits = []struct {
	suffix string
	mult   int
}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"kB", 1e3}, {"B", 1}}

func toSize(v any) (any, error) {
	if s, ok := v.(string); ok {
		s = strings.TrimSpace(s)
		for _, u := range sizeUnits {
			if num, found := strings.CutSuffix(s, u.suffix); found {
				n, err := strconv.Atoi(strings.TrimSpace(num))
				if err != nil || n < 0 || n > math.MaxInt/u.mult {
					break
				}
				return n * u.mult, nil
			}
		}
		if n, err := strconv.Atoi(s); err == nil {
			return n, nil
		}
		return nil, fmt.Errorf("bad size %q: write e.g. 64, 4KiB or 16MiB", s)
	}
	n, err := toInt(v)
	if err != nil {
		return nil, fmt.Errorf("expected a size such as 4KiB, got %s", describe(v))
	}
	return n, nil
}

func checkBounds(p contract.Param, v any) error {
	if len(p.Enum) > 0 {
		if s, ok := v.(string); ok && !slices.Contains(p.Enum, s) {
			return fmt.Errorf("%q is not one of %s%s", s, strings.Join(p.Enum, ", "), contract.DidYouMean(s, p.Enum))
		}
	}
	if n, ok := v.(int); ok {
		if p.Min != nil && n < *p.Min {
			return fmt.Errorf("%d is below the minimum %d", n, *p.Min)
		}
		if p.Max != nil && n > *p.Max {
			return fmt.Errorf("%d is above the maximum %d", n, *p.Max)
		}
	}
	return nil
}

func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "nothing"
	case string:
		return fmt.Sprintf("string %q", v)
	case []any, map[string]any:
		return "a " + typeName(v)
	}
	return fmt.Sprintf("%T %v", v, v)
}

func typeName(v any) string {
	switch v.(type) {
	case []any:
		return "list"
	case map[string]any:
		return "mapping"
	}
	return fmt.Sprintf("%T", v)
}
