package statespace

import (
	"context"
	"errors"

	"github.com/pmrun/pmrun/actions/internal/program"
)

func searchBitstate(ctx context.Context, p *program.Program, o Options) (Result, error) {
	return Result{}, errors.New("statespace: bitstate is not written yet")
}
