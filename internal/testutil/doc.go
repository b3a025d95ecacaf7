// Package testutil holds the helpers tests share: the privilege gate that
// fails instead of skipping under CI=true, and leak checks.
package testutil
