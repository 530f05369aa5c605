package server

// SweepExpired exposes the sweeper to the external tests.
var SweepExpired = (*Server).sweepExpired
