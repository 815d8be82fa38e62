// Package report shows scenario runs to people and to other tools: the
// console's lines ([Console]), the run's timeline ([Timeline]) written as
// a Chrome trace or drawn in an HTML page ([WriteHTML]), and JUnit XML
// ([WriteJUnit]). What an action's events look like comes from their
// declarations ([contract.Event]) in the registry the console and the
// timeline are given; this package names no action's events.
package report
