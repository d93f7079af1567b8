// The error of a build context the agent refuses to send (it leaves the workspace, a hard link to a
// file its user does not own, a .dockerignore it cannot read), or one that changed while it was
// packed: its message is for the pipeline's user, shown as the build step's reason.
export class BuildContextError extends Error {}
