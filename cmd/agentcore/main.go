// Command agentcore is both the agentcore-identity server (`agentcore
// server`) and the CLI that talks to it.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/agentcore-identity/agentcore/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Execute(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
