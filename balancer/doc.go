// Package balancer will be the cluster's front door: sticky routing of
// engine.io sessions to live workers only. It is filled in by the cluster
// work; until then the single worker listens on the public port itself.
package balancer
