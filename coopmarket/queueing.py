"""Queueing background tasks from the services, safely, with a switch to silence them.

A service queues a Celery task (an e-mail to send) once its transaction commits; a broker or mail
server that is down must never undo or break the action that queued it. `muted()` silences every
app's queueing for a block (bulk imports, demo data). Kernel helper: no app imports here."""
import contextlib
import contextvars
import logging

logger = logging.getLogger(__name__)
_muted: contextvars.ContextVar[bool] = contextvars.ContextVar("coop_tasks_muted", default=False)


@contextlib.contextmanager
def muted():
    """No task is queued inside this block (nor by on-commit hooks run when it commits)."""
    token = _muted.set(True)
    try:
        yield
    finally:
        _muted.reset(token)


def is_muted() -> bool:
    return _muted.get()


def enqueue(tasks_module, task_name: str, *args) -> None:
    """`tasks_module.<task_name>.delay(*args)`, unless muted; a failure is logged, never raised."""
    if _muted.get():
        return
    try:
        getattr(tasks_module, task_name).delay(*args)
    except Exception:  # a broker or mail server down must not undo or break the action
        logger.exception("Could not queue %s%r", task_name, args)
