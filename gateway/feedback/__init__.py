"""Applying agency feedback (the ``feedback:<agency>`` streams) to tickets through the state machine."""

from gateway.feedback.worker import FeedbackWorker

__all__ = ["FeedbackWorker"]
