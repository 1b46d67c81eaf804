"""The Python API of the ColonyOS platform (``polynb.colonies``): submit function specs and workflows."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ...calls import CallTimeout
from . import submit as submitting
from .signature import check_spec
from .submit import Submission, SubmissionFailed

PLATFORM = "colonies"


def _binding():
    import polynb

    service = polynb.get_service()
    return service, service.call(service.binding(PLATFORM), label="ColonyOS")


def _finish(service, submission: Submission, wait: bool, follow: bool, timeout: float | None) -> Any:
    if follow:
        import polynb

        from .view import SubmissionView

        view = SubmissionView()
        submission.on_change(view.update)
        polynb.show(("colonies-submission", submission.processid), view)
        service.loop.call_soon_threadsafe(submission.follow)
    return submission.result(timeout) if wait else submission


def submit(funcname: str, args: Sequence[Any] = (), kwargs: Mapping[str, Any] | None = None, *,
           executortype: str | None = None, maxexectime: int = -1, maxwaittime: int = -1, maxretries: int = 3,
           priority: int = 0, wait: bool = False, follow: bool = True, timeout: float | None = None) -> Any:
    """Submit ``funcname(*args, **kwargs)`` to the colony; with ``wait`` return its output list.

    The spec names the executors that registered ``funcname`` (when any did). ``follow`` shows a live
    widget. Args the registered function would not take raise :class:`~polynb.signature.InputMismatch`
    before anything is submitted. On failure ``wait`` raises :class:`SubmissionFailed` with the server's
    errors; with no end within ``timeout`` seconds (default ``core.call_timeout``), :class:`CallTimeout` says
    what holds it.
    """
    service, binding = _binding()
    check_spec(service.journal, funcname, args, kwargs)
    submission = service.call(submitting.submit_function(
        binding, funcname, args, kwargs, executortype=executortype, maxexectime=maxexectime,
        maxwaittime=maxwaittime, maxretries=maxretries, priority=priority), label=f"submitting {funcname}")
    return _finish(service, submission, wait, follow, timeout)


def workflow(specs: Sequence[Mapping[str, Any]], *, wait: bool = False, follow: bool = True,
             timeout: float | None = None) -> Any:
    """Submit a graph: each spec a dict with ``funcname``, ``nodename``, ``dependencies`` (and args, limits).

    With ``wait``, return ``{nodename: output list}`` once every process succeeded (or raise as
    :func:`submit` does). The args of every spec without dependencies are checked as :func:`submit` checks
    them, before any is sent (a dependent node's args get its parents' outputs too, known only when they end).
    """
    service, binding = _binding()
    for spec in specs:
        if not spec.get("dependencies"):
            check_spec(service.journal, str(spec.get("funcname", "")), spec.get("args"), spec.get("kwargs"))
    submission = service.call(submitting.submit_workflow(binding, specs), label="submitting workflow")
    return _finish(service, submission, wait, follow, timeout)


__all__ = ["submit", "workflow", "Submission", "SubmissionFailed", "CallTimeout"]
