"""The project's own error type: every failure a user can cause is one of these, with one clear sentence."""


class OrientError(Exception):
    """A problem with the user's input, model or environment, described in one sentence."""
