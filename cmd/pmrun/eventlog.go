package main

import "github.com/pmrun/pmrun/runner"

// newEventLog makes the event log of pmrun run and pmrun menu; a variable,
// so that the tests hold every event the CLI logs to a declaration
// (TestMain).
var newEventLog = runner.NewEventLog
