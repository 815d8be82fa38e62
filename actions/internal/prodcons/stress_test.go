package prodcons

import (
	"os"
	"testing"
)

// TestStressInvariants runs big shapes in both modes and checks every item
// once; only with PMRUN_STRESS set (make stress).
func TestStressInvariants(t *testing.T) {
	if os.Getenv("PMRUN_STRESS") == "" {
		t.Skip("set PMRUN_STRESS=1 (make stress)")
	}
	stressShapes := []Config{
		{Producers: 1, Consumers: 1, Buffer: 16, Items: 1000000},
		{Producers: 8, Consumers: 8, Buffer: 3, Items: 500000},
		{Producers: 16, Consumers: 2, Buffer: 1, Items: 200000},
		{Producers: 2, Consumers: 16, Buffer: 1000, Items: 500000},
	}
	for _, m := range modes {
		for _, cfg := range stressShapes {
			for range 3 {
				res, err := m.run(t.Context(), cfg)
				if err != nil {
					t.Fatalf("%s %+v: %v", m.name, cfg, err)
				}
				checkInvariants(t, cfg, res)
			}
		}
	}
}
