// Package verdict is the answer nsinspect gives about one resource of two
// tasks (a namespace link compared by NS_GET_ID, a kernel object compared
// by kcmp(2), one fd compared by KCMP_FILE): shared, separate, or
// indeterminate when the kernel's answer does not decide it. It holds the
// words every view prints for it, so that `compare`, `clone`, `unshare`,
// `matrix` and the DOT graphs cannot drift apart.
//
// JSON keeps the verdict as "shared": true, false or null (a *bool); Of
// turns that into a Verdict.
package verdict
