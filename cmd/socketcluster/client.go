package main

import "github.com/socketcluster-go/socketcluster/cluster"

// addClientFiles wires the embedded browser client (see client/).
func addClientFiles(cfg *cluster.WorkerConfig) {}
