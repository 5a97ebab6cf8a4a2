// Command pause holds a Pod's namespaces open for containerd's sandbox: it waits for a signal,
// reaping any orphaned child that the kernel re-parents to it (it runs as PID 1 of the Pod), and
// exits 0 on SIGINT or SIGTERM so that a sandbox stops at once. No registry is reachable here, so
// the cluster builds its own sandbox image from this instead of pulling one.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for sig := range signals {
		if sig != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			var status syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
