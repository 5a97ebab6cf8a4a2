"""What the CLI and the SDK say to a cluster: a connection from the kubeconfig, and calls to served
models through the API server. Imports the Kubernetes client (the ``cli`` extra); callers import
these modules only when they talk to a cluster."""
