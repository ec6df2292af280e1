"""Domain errors raised by services. Views turn them into form errors, the API into 409s."""


class RuleViolation(Exception):
    """A coop rule forbids the action. `code` is one of CONTRACT.md §5's 409 codes."""

    def __init__(self, code: str, message: str, **extra):
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra = extra  # more JSON for the 409 (e.g. the `dates` a slot cannot take)

    def __str__(self):
        return self.message
