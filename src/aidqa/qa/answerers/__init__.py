"""Answerers: turn retrieved passages into a cited answer or a refusal (``base`` is the interface)."""

from aidqa.qa.answerers.base import Answerer, Extraction

__all__ = ["Answerer", "Extraction"]
