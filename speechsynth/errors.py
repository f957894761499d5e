"""The one exception type that reaches users as a one-line message instead of a traceback."""


class SpeechSynthError(Exception):
    """A problem with the user's input: the message names the file or value and the fix."""
